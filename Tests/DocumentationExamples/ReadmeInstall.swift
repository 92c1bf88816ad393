/// The `Package.swift` calls the README's install snippet makes, with PackageDescription's own
/// labels. PackageDescription is only available to manifests, so the snippet is type-checked
/// against these stand-ins.
struct ManifestShim {
    struct Dependency {
        static func package(url: String, from version: String) -> Dependency { Dependency() }
    }

    struct TargetDependency {
        static func product(name: String, package: String) -> TargetDependency { TargetDependency() }
    }

    struct Target {
        static func executableTarget(name: String, dependencies: [TargetDependency]) -> Target { Target() }
    }

    init(dependencies: [Dependency], targets: [Target]) {}
}

/// README.md, "Install".
func readmeInstall() -> ManifestShim {
    ManifestShim(
        // Package.swift
        dependencies: [
            .package(url: "https://github.com/OWNER/swift-apigateway-websockets.git", from: "0.1.0"),
            .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
            .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
            .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        ],
        targets: [
            .executableTarget(
                name: "App",
                dependencies: [
                    .product(name: "VaporAPIGatewayWebSockets", package: "swift-apigateway-websockets"),
                    .product(name: "Vapor", package: "vapor"),
                    .product(name: "Fluent", package: "fluent"),
                    .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                ]
            )
        ]
    )
}
