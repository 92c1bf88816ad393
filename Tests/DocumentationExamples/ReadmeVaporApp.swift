import APIGatewayAWS
import APIGatewayWebSockets
import Fluent
import FluentSQLiteDriver
import Vapor
import VaporAPIGatewayWebSockets

/// The `$default` route: rooms to join (the built-in channel handlers) and messages to them.
struct ChatController: WebSocketController {
    let routeKey = RouteKey.default

    struct SendMessage: Decodable, Sendable { let text: String }
    struct Chat: Encodable, Sendable {
        let type = "message"
        let channel: ChannelName
        let text: String
    }

    func handlers(_ handlers: inout HandlerRegistry) {
        handlers.addChannelHandlers()  // join, leave, change-channel, channels, presence
        handlers.on("sendmessage", SendMessage.self) { message, context in
            for channel in try await context.joinedChannels() {
                try await context.send(Chat(channel: channel, text: message.text), to: .channel(channel))
            }
        }
    }
}

/// The backend: sessions in SQLite, replies through API Gateway's `@connections` API.
enum ChatBackend {
    static func run() async throws {
        var environment = try Environment.detect()
        try LoggingSystem.bootstrap(from: &environment)
        let app = try await Application.make(environment)
        do {
            try await configure(app)
            try await app.execute()  // `serve`, or a command: `gateway apply`, `sessions sweep`, …
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }

    static func configure(_ app: Application) async throws {
        app.databases.use(.sqlite(.file("chat.sqlite")), as: .sqlite)
        app.migrations.add(WebSocketMigrations.all)
        try await app.autoMigrate()

        var configuration = GatewayConfiguration()
        configuration.secrets = Environment.get("WS_GATEWAY_SECRET").map { [$0] } ?? []  // required in production
        let http = app.http.client.shared
        let gateway = WebSocketGateway(
            app: app, configuration: configuration,
            poster: ManagementClient(httpClient: http, credentials: CredentialProviderChain.default(httpClient: http)))
        try gateway.register(ChatController())  // POST /ws/connect, /ws/disconnect, /ws/default
        gateway.scheduleCleanup(every: .seconds(600), on: app)
    }
}

/// `Sources/App/main.swift` of the README's Vapor app, which is also the Vapor quick start's.
func readmeVaporMain() async throws {
    // Sources/App/main.swift
    try await ChatBackend.run()
}
