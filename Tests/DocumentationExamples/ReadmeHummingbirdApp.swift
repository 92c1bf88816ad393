import APIGatewayAWS
import APIGatewayWebSockets
import Foundation
import Hummingbird
import HummingbirdAPIGatewayWebSockets
import Logging
import ServiceLifecycle

/// The `$default` route: the built-in channel handlers, and `say` to everyone in the sender's rooms.
struct LobbyController: WebSocketController {
    let routeKey = RouteKey.default

    struct Say: Decodable, Sendable { let text: String }
    struct Said: Encodable, Sendable {
        let type = "said"
        let channel: ChannelName
        let text: String
    }

    func handlers(_ handlers: inout HandlerRegistry) {
        handlers.addChannelHandlers()  // join, leave, change-channel, channels, presence
        handlers.on("say", Say.self) { message, context in
            for channel in try await context.joinedChannels() {
                try await context.send(Said(channel: channel, text: message.text), to: .channel(channel))
            }
        }
    }
}

/// The backend: the door on a Hummingbird router, sessions in memory, the cleanup beside the server.
enum LobbyServer {
    static func run() async throws {
        let logger = Logger(label: "lobby")
        let environment = ProcessInfo.processInfo.environment
        let dispatcher = GatewayDispatcher(
            configuration: GatewayConfiguration(secrets: environment["WS_GATEWAY_SECRET"].map { [$0] } ?? []),
            store: InMemoryConnectionStore(),
            gateways: CachedGatewayDirectory([
                GatewayRecord(apiID: try APIID(environment["WS_API_ID"] ?? "abc123defg"), stage: "production", region: "eu-west-1")
            ]),
            poster: ManagementClient(httpClient: .shared, credentials: CredentialProviderChain.default()),
            logger: logger)
        let router = Router()
        let gateway = HummingbirdWebSocketGateway<BasicRequestContext>(dispatcher: dispatcher)
        try gateway.register(LobbyController(), on: router)  // POST /ws/connect, /ws/disconnect, /ws/default
        let app = Application(router: router, configuration: .init(address: .hostname("0.0.0.0", port: 8080)), logger: logger)
        let cleanup = CleanupService(cleanup: Cleanup(store: dispatcher.store), logger: logger)
        try await ServiceGroup(services: [app, cleanup], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
    }
}

/// `Sources/App/main.swift` of the README's Hummingbird app, which is also the Hummingbird quick start's.
func readmeHummingbirdMain() async throws {
    // Sources/App/main.swift
    try await LobbyServer.run()
}
