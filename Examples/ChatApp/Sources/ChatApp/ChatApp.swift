import APIGatewayWebSockets
import Fluent
import SQLKit
import FluentSQLiteDriver
import Vapor
import VaporAPIGatewayWebSockets

/// The chat example's settings; every field has an environment variable and a default that
/// runs on one machine.
public struct ChatSettings: Sendable {
    /// `CHAT_DATABASE`: the SQLite file sessions live in. Default `chat.sqlite`.
    public var databasePath: String
    /// `CHAT_API_ID`, `CHAT_STAGE`, `CHAT_REGION`: the API Gateway API the app accepts events from.
    public var gateway: GatewayRecord
    /// `WS_GATEWAY_SECRET`: the secret the integration sends. Default `local-development-secret`.
    public var secret: String

    public init(databasePath: String = "chat.sqlite", gateway: GatewayRecord? = nil, secret: String = "local-development-secret") {
        self.databasePath = databasePath
        self.gateway = gateway ?? GatewayRecord(apiID: try! APIID("chatlocal"), stage: "local", region: "us-east-1")
        self.secret = secret
    }

    /// The settings from the environment, with defaults.
    public static func fromEnvironment() throws -> ChatSettings {
        let defaults = ChatSettings()
        return ChatSettings(
            databasePath: Environment.get("CHAT_DATABASE") ?? defaults.databasePath,
            gateway: GatewayRecord(
                apiID: try Environment.get("CHAT_API_ID").map { try APIID($0) } ?? defaults.gateway.apiID,
                stage: Environment.get("CHAT_STAGE") ?? defaults.gateway.stage,
                region: Environment.get("CHAT_REGION") ?? defaults.gateway.region
            ),
            secret: Environment.get("WS_GATEWAY_SECRET") ?? defaults.secret
        )
    }
}

/// Sets up the chat example on `app`: SQLite, migrations, the gateway record, and the two
/// controllers (`$default` at `/ws/…`, `notifications` at `/websockets/notifications/`).
@discardableResult
public func configureChat(_ app: Application, settings: ChatSettings, poster: (any ConnectionPoster)? = nil) async throws -> WebSocketGateway {
    app.databases.use(.sqlite(.file(settings.databasePath), sqlLogLevel: .trace), as: .sqlite)
    app.migrations.add(CreateWebSocketTables())
    try await app.autoMigrate()
    try await useWriteAheadLog(app)

    // SQLite has one writer at a time: every session statement goes through one connection (the
    // pool of one event loop) instead of two connections spinning on each other's write lock.
    let writerLoop = app.eventLoopGroup.next()
    let store = FluentConnectionStore { [logger = app.logger] in
        app.databases.database(.sqlite, logger: logger, on: writerLoop)!
    }
    let gateway = WebSocketGateway(
        app: app,
        configuration: GatewayConfiguration(secrets: [settings.secret]),
        store: store,
        poster: poster ?? LoggingPoster(logger: app.logger)
    )
    try gateway.register(ChatController())
    try gateway.register(NotificationsController(), at: "/websockets/notifications/")
    try await gateway.registerGateway(settings.gateway)
    return gateway
}

/// Puts the SQLite file in WAL mode, so readers never wait for the writer, and lets each pooled
/// connection (one per event loop) commit without a full fsync (`synchronous = NORMAL`: a crash
/// may lose the last commits, never corrupt the file).
func useWriteAheadLog(_ app: Application) async throws {
    for eventLoop in app.eventLoopGroup.makeIterator() {
        guard let sql = app.databases.database(.sqlite, logger: app.logger, on: eventLoop) as? any SQLDatabase else { return }
        try await sql.raw("PRAGMA journal_mode = WAL").run()
        try await sql.raw("PRAGMA synchronous = NORMAL").run()
    }
}
