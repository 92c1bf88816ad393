// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// The event path's modules: a nonisolated async function runs on its caller's executor (SE-0461)
// instead of hopping to the global one and back at every call; the hops were about 40% of an
// in-process message's instructions.
let eventPath = strict + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]

let package = Package(
    name: "swift-apigateway-websockets",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "APIGatewayAWS", targets: ["APIGatewayAWS"]),
        .library(name: "APIGatewayWebSockets", targets: ["APIGatewayWebSockets"]),
        .library(name: "APIGatewayProvisioning", targets: ["APIGatewayProvisioning"]),
        .library(name: "APIGatewayWebSocketsSQL", targets: ["APIGatewayWebSocketsSQL"]),
        .library(name: "APIGatewayWebSocketsCommands", targets: ["APIGatewayWebSocketsCommands"]),
        .library(name: "VaporAPIGatewayWebSockets", targets: ["VaporAPIGatewayWebSockets"]),
        .library(name: "VaporAPIGatewayAdmin", targets: ["VaporAPIGatewayAdmin"]),
        .library(name: "HummingbirdAPIGatewayWebSockets", targets: ["HummingbirdAPIGatewayWebSockets"]),
        .library(name: "APIGatewayWebSocketsTesting", targets: ["APIGatewayWebSocketsTesting"]),
        .library(name: "APIGatewayWebSocketsClient", targets: ["APIGatewayWebSocketsClient"]),
        .library(name: "APIGatewayWebSocketsClientURLSession", targets: ["APIGatewayWebSocketsClientURLSession"]),
        .library(name: "VaporAPIGatewayWebSocketsTesting", targets: ["VaporAPIGatewayWebSocketsTesting"]),
        .executable(name: "chat-example", targets: ["ChatExample"]),
        .executable(name: "hummingbird-chat-example", targets: ["HummingbirdChatExample"]),
        .executable(name: "apigateway-local", targets: ["apigateway-local"]),
        .library(name: "APIGatewayLocal", targets: ["APIGatewayLocal"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/vapor/websocket-kit.git", from: "2.16.2"),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-kit.git", from: "1.57.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/vapor/leaf.git", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.1.4"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
    ],
    targets: [
        // Our own AWS layer: SigV4, credentials, the @connections client.
        .target(
            name: "APIGatewayAWS",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: eventPath
        ),
        // The local gateway: API Gateway's WebSocket side for HTTP backends, as a library.
        .target(
            name: "APIGatewayLocal",
            dependencies: [
                "APIGatewayAWS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "apigateway-local",
            dependencies: [
                "APIGatewayLocal",
                "APIGatewayAWS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The framework-free core: events, ids, routing, guards, store protocol, messenger.
        .target(
            name: "APIGatewayWebSockets",
            dependencies: [
                "APIGatewayAWS",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            ],
            // The JavaScript client, served by either door; its declarations and package.json are
            // for a front end to vendor from this folder (Docs/JavaScriptClient.md).
            exclude: ["Resources/apigw-websockets.d.ts", "Resources/package.json"],
            resources: [.copy("Resources/apigw-websockets.js")],
            swiftSettings: eventPath
        ),
        // Routes declared in code as API Gateway routes: desired state, validation, the planner and
        // its applier, domain and secret plans, CloudFormation and Terraform. No web framework.
        .target(
            name: "APIGatewayProvisioning",
            dependencies: [
                "APIGatewayWebSockets",
                "APIGatewayAWS",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // Vapor adapter, Fluent models, migrations and the Fluent store.
        // The SQL store (connections, identity, channel rules, streams, web sessions, gateway
        // records) and its migrations, on FluentKit and SQLKit: for Vapor and Hummingbird apps alike.
        .target(
            name: "APIGatewayWebSocketsSQL",
            dependencies: [
                "APIGatewayWebSockets",
                "APIGatewayProvisioning",
                "APIGatewayAWS",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: eventPath
        ),
        // The maintenance commands for any app: what they do, and swift-argument-parser commands.
        .target(
            name: "APIGatewayWebSocketsCommands",
            dependencies: [
                "APIGatewayWebSockets",
                "APIGatewayWebSocketsSQL",
                "APIGatewayProvisioning",
                "APIGatewayAWS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "VaporAPIGatewayWebSockets",
            dependencies: [
                "APIGatewayWebSockets",
                "APIGatewayWebSocketsSQL",
                "APIGatewayWebSocketsCommands",
                "APIGatewayProvisioning",
                "APIGatewayAWS",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: eventPath
        ),
        // The admin door (Leaf pages) and the page helper: apps that do not want them do not link Leaf.
        .target(
            name: "VaporAPIGatewayAdmin",
            dependencies: [
                "VaporAPIGatewayWebSockets",
                "APIGatewayWebSockets",
                "APIGatewayProvisioning",
                "APIGatewayAWS",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Leaf", package: "leaf"),
            ],
            resources: [.copy("Views")],
            swiftSettings: strict
        ),
        // The Hummingbird 2 door: the same core, mounted on a Hummingbird router.
        .target(
            name: "HummingbirdAPIGatewayWebSockets",
            dependencies: [
                "APIGatewayWebSockets",
                "APIGatewayWebSocketsSQL",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: eventPath
        ),
        // Test kit: fake API Gateway requests, recording poster, the store and adapter conformance suites.
        // A Swift client of a gateway: no Vapor, WebSocketKit on SwiftNIO.
        .target(
            name: "APIGatewayWebSocketsClient",
            dependencies: [
                .product(name: "WebSocketKit", package: "websocket-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The client over URLSession, apart so that only an app that wants it links FoundationNetworking.
        .target(
            name: "APIGatewayWebSocketsClientURLSession",
            dependencies: ["APIGatewayWebSocketsClient"],
            swiftSettings: strict
        ),
        .target(
            name: "APIGatewayWebSocketsTesting",
            dependencies: [
                "APIGatewayWebSockets",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        // The test kit's transports for a Vapor app: in-process and live (port 0).
        .target(
            name: "VaporAPIGatewayWebSocketsTesting",
            dependencies: [
                "APIGatewayWebSocketsTesting",
                "VaporAPIGatewayWebSockets",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        // The chat's messages, shared by its server and its Swift clients.
        .target(
            name: "ChatMessages",
            dependencies: ["APIGatewayWebSocketsClient"],
            path: "Examples/ChatApp/Sources/ChatMessages",
            swiftSettings: strict
        ),
        // What the chat's two examples (Vapor, Hummingbird) share: controllers, accounts, page assets.
        .target(
            name: "ChatCore",
            dependencies: [
                "APIGatewayWebSockets", "APIGatewayWebSocketsSQL", "APIGatewayProvisioning", "APIGatewayWebSocketsClient", "ChatMessages",
                .product(name: "FluentKit", package: "fluent-kit"),
            ],
            path: "Examples/ChatApp/Sources/ChatCore",
            resources: [.copy("Resources/chat.js"), .copy("Resources/chat.css")],
            swiftSettings: strict
        ),
        // The chat on Hummingbird 2: the same chat, the other door.
        .target(
            name: "HummingbirdChat",
            dependencies: [
                "ChatCore", "APIGatewayWebSockets", "APIGatewayWebSocketsSQL", "HummingbirdAPIGatewayWebSockets", "APIGatewayLocal",
                "APIGatewayWebSocketsCommands",
                "APIGatewayProvisioning", "APIGatewayAWS",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/HummingbirdChat/Sources/HummingbirdChat",
            resources: [.copy("Views")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "HummingbirdChatExample",
            dependencies: [
                "HummingbirdChat", "APIGatewayWebSocketsCommands",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/HummingbirdChat/Sources/HummingbirdChatExample"
        ),
        // The chat example: the README's main command.
        .target(
            name: "ChatApp",
            dependencies: [
                "ChatMessages",
                "ChatCore",
                "APIGatewayAWS",
                "APIGatewayProvisioning",
                "APIGatewayLocal",
                "VaporAPIGatewayWebSockets",
                "VaporAPIGatewayAdmin",
                "APIGatewayWebSocketsClient",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Leaf", package: "leaf"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Examples/ChatApp/Sources/ChatApp",
            resources: [.copy("Views")]
        ),
        .executableTarget(
            name: "ChatExample",
            dependencies: ["ChatApp", "APIGatewayLocal", .product(name: "Vapor", package: "vapor")],
            path: "Examples/ChatApp/Sources/ChatExample"
        ),
        .executableTarget(
            name: "EventBenchmark",
            dependencies: [
                "ChatApp",
                "VaporAPIGatewayWebSocketsTesting",
                "HummingbirdAPIGatewayWebSockets",
                "APIGatewayAWS",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Benchmarks/EventBenchmark"
        ),
        // The store's SQL through FluentKit/SQLKit against the drivers directly (issue 16).
        .executableTarget(
            name: "StoreDriverBenchmark",
            dependencies: [
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/StoreDriverBenchmark"
        ),
        // Starts the PyPI peers (moto_server, botocore) for tests.
        .target(
            name: "PeerSupport",
            dependencies: [
                "APIGatewayLocal",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "WebSocketKit", package: "websocket-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            path: "Tests/PeerSupport"
        ),
        .executableTarget(
            name: "FanoutBenchmark",
            dependencies: [
                "APIGatewayAWS",
                "APIGatewayWebSockets",
                "VaporAPIGatewayWebSockets",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/FanoutBenchmark"
        ),
        // libFuzzer targets (Docs/Fuzzing.md): plain replayers unless built with -DFUZZING.
        .target(name: "FuzzDriver", path: "FuzzTesting/FuzzDriver"),
        .executableTarget(
            name: "FuzzRouteSelection",
            dependencies: ["APIGatewayLocal", "FuzzDriver"],
            path: "FuzzTesting/FuzzRouteSelection"
        ),
        .executableTarget(
            name: "FuzzSigV4Canonical",
            dependencies: ["APIGatewayAWS", "FuzzDriver"],
            path: "FuzzTesting/FuzzSigV4Canonical"
        ),
        .executableTarget(
            name: "LocalGatewayBenchmark",
            dependencies: [
                "APIGatewayAWS",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "WebSocketKit", package: "websocket-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/LocalGatewayBenchmark",
            exclude: ["chat.json"]
        ),
        .testTarget(
            name: "APIGatewayAWSTests",
            dependencies: [
                "APIGatewayAWS",
                "PeerSupport",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "APIGatewayLocalTests",
            dependencies: [
                "APIGatewayLocal",
                "APIGatewayWebSocketsTesting",
                "APIGatewayAWS",
                "PeerSupport",
                .product(name: "WebSocketKit", package: "websocket-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "APIGatewayWebSocketsClientTests",
            dependencies: ["APIGatewayWebSocketsClient", "APIGatewayWebSocketsClientURLSession", "APIGatewayLocal", "PeerSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "APIGatewayProvisioningTests",
            dependencies: ["APIGatewayProvisioning", "APIGatewayWebSockets", "APIGatewayAWS", "APIGatewayLocal", "PeerSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "APIGatewayWebSocketsTests",
            dependencies: [
                "APIGatewayWebSockets", "APIGatewayWebSocketsTesting", "PeerSupport",
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HummingbirdAPIGatewayWebSocketsTests",
            dependencies: [
                "HummingbirdAPIGatewayWebSockets", "APIGatewayWebSockets", "APIGatewayWebSocketsTesting",
                "APIGatewayLocal", "APIGatewayAWS", "PeerSupport",
                "APIGatewayWebSocketsClient", "APIGatewayWebSocketsSQL",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Every code example of the README and the DocC catalogs, compiled, and a check that each
        // example in the docs is one of them.
        .testTarget(
            name: "DocumentationExamples",
            dependencies: [
                "APIGatewayAWS", "APIGatewayLocal", "APIGatewayProvisioning", "APIGatewayWebSockets", "APIGatewayWebSocketsTesting",
                "APIGatewayWebSocketsClient", "APIGatewayWebSocketsClientURLSession", "HummingbirdAPIGatewayWebSockets", "VaporAPIGatewayWebSockets", "VaporAPIGatewayWebSocketsTesting",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                "APIGatewayWebSocketsSQL", "APIGatewayWebSocketsCommands",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "APIGatewayWebSocketsSQLTests",
            dependencies: [
                "APIGatewayWebSocketsSQL", "APIGatewayWebSockets", "APIGatewayWebSocketsTesting", "PeerSupport",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VaporAPIGatewayWebSocketsTests",
            dependencies: [
                "APIGatewayWebSocketsSQL",
                "VaporAPIGatewayWebSockets",
                "VaporAPIGatewayWebSocketsTesting",
                "APIGatewayProvisioning",
                "APIGatewayAWS",
                // The provisioner's control plane in its tests: the local gateway, and moto.
                "APIGatewayLocal",
                "PeerSupport",
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
            ],
            swiftSettings: strict
        ),
        // The chat example's own tests, the whole system as a user runs it: the example, the local
        // gateway, WebSocket clients, the example's command line as a process. The framework's
        // test targets never import the example.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "ChatApp",
                "HummingbirdChat",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "ChatMessages",
                "APIGatewayWebSocketsClient",
                "APIGatewayLocal",
                "APIGatewayAWS",
                "APIGatewayWebSockets",
                "APIGatewayProvisioning",
                "VaporAPIGatewayWebSockets",
                "VaporAPIGatewayWebSocketsTesting",
                "PeerSupport",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
            ],
            exclude: ["Browser/browser_driver.py"],
            swiftSettings: strict
        ),
    ]
)
