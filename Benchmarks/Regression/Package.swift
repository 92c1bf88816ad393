// swift-tools-version:6.1
import Foundation
import PackageDescription

// A path dependency is known by its folder's name, which is whatever the clone is called.
let framework = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
    .lastPathComponent.lowercased()

// Regression benchmarks of the hot pieces, in a package of their own so the framework's users do
// not resolve package-benchmark. Two harnesses over one set of pieces (`HotPaths`):
// package-benchmark counts allocations against `Thresholds/` (`swift package benchmark thresholds
// check`), and `HotPathsCount` under callgrind counts instructions against `instructions.json`
// (`./check.sh`). Both are stable on a shared machine, where time is not.
let package = Package(
    name: "regression-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        .target(
            name: "HotPaths",
            dependencies: [
                .product(name: "APIGatewayAWS", package: framework),
                .product(name: "APIGatewayWebSockets", package: framework),
                .product(name: "APIGatewayWebSocketsTesting", package: framework),
                .product(name: "APIGatewayLocal", package: framework),
                .product(name: "VaporAPIGatewayWebSockets", package: framework),
                .product(name: "Vapor", package: "vapor"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .executableTarget(
            name: "HotPathsCount",
            dependencies: ["HotPaths", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]),
        .executableTarget(
            name: "HotPathsBenchmarks",
            dependencies: ["HotPaths", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/HotPathsBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
