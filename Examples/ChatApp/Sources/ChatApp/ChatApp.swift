import APIGatewayAWS
import APIGatewayLocal
import APIGatewayWebSockets
import Fluent
import FluentSQLiteDriver
import SQLKit
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
    /// `CHAT_MANAGEMENT_ENDPOINT`: where replies are posted (`@connections`). Default the local
    /// gateway's `http://127.0.0.1:8081/chatlocal/local`; unset it with an empty value to use AWS's
    /// `https://{api}.execute-api.{region}.amazonaws.com/{stage}`.
    /// (Stored on the gateway record as its management endpoint.)
    ///
    /// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` and the rest of the credential chain sign the
    /// posts; with none set, the local gateway's development keys are used.
    public var credentials: Credential?

    /// The local gateway's development keys, used when no AWS credentials are configured.
    public static let localCredentials = Credential(accessKeyID: "AKIDLOCALDEVELOPMENT", secretAccessKey: "local-development-secret-key")

    public init(
        databasePath: String = "chat.sqlite",
        gateway: GatewayRecord? = nil,
        secret: String = "local-development-secret",
        credentials: Credential? = ChatSettings.localCredentials
    ) {
        self.databasePath = databasePath
        self.gateway =
            gateway
            ?? GatewayRecord(
                apiID: try! APIID("chatlocal"), stage: "local", region: "us-east-1",
                managementEndpoint: "http://127.0.0.1:8081/chatlocal/local"
            )
        self.secret = secret
        self.credentials = credentials
    }

    /// The settings from the environment, with defaults.
    public static func fromEnvironment() throws -> ChatSettings {
        let defaults = ChatSettings()
        return ChatSettings(
            databasePath: Environment.get("CHAT_DATABASE") ?? defaults.databasePath,
            gateway: GatewayRecord(
                apiID: try Environment.get("CHAT_API_ID").map { try APIID($0) } ?? defaults.gateway.apiID,
                stage: Environment.get("CHAT_STAGE") ?? defaults.gateway.stage,
                region: Environment.get("CHAT_REGION") ?? defaults.gateway.region,
                managementEndpoint: Environment.get("CHAT_MANAGEMENT_ENDPOINT").map { $0.isEmpty ? nil : $0 }
                    ?? defaults.gateway.managementEndpoint
            ),
            secret: Environment.get("WS_GATEWAY_SECRET") ?? defaults.secret,
            // With AWS credentials in the environment, the chain (not the local keys) signs.
            credentials: Environment.get("AWS_ACCESS_KEY_ID") == nil && Environment.get("AWS_PROFILE") == nil
                ? ChatSettings.localCredentials : nil
        )
    }
}

/// Sets up the chat example on `app`: SQLite, migrations, the gateway record, the two
/// controllers (`$default` at `/ws/…`, `notifications` at `/websockets/notifications/`), and
/// replies through API Gateway's `@connections` API with ``ManagementClient`` (or `poster`).
@discardableResult
public func configureChat(_ app: Application, settings: ChatSettings, poster: (any ConnectionPoster)? = nil) async throws
    -> WebSocketGateway
{
    app.databases.use(.sqlite(.file(settings.databasePath), sqlLogLevel: .trace), as: .sqlite)
    app.migrations.add(CreateWebSocketTables())
    try await app.autoMigrate()
    try await useWriteAheadLog(app)

    // SQLite has one writer at a time: every session statement goes through one connection (the
    // pool of one event loop) instead of two connections spinning on each other's write lock.
    let writerLoop = app.eventLoopGroup.next()
    let store = FluentConnectionStore { [logger = app.logger] in
        guard let database = app.databases.database(.sqlite, logger: logger, on: writerLoop) else {
            throw StoreError(description: "the SQLite database is not available (shutting down?)")
        }
        return database
    }
    let gateway = WebSocketGateway(
        app: app,
        configuration: GatewayConfiguration(secrets: [settings.secret]),
        store: store,
        poster: poster ?? makeManagementClient(app, settings: settings)
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

/// A ``ManagementClient`` with its own keep-alive pool, shut down with the app.
func makeManagementClient(_ app: Application, settings: ChatSettings) -> ManagementClient {
    let http = ManagementClient.makeHTTPClient(maximumConnections: 64)
    app.lifecycle.use(HTTPClientShutdown(client: http))
    let credentials: any CredentialProvider =
        settings.credentials.map { StaticCredentialProvider($0) }
        ?? CredentialProviderChain.default(httpClient: http)
    return ManagementClient(httpClient: http, credentials: credentials, logger: app.logger)
}

private struct HTTPClientShutdown: LifecycleHandler {
    let client: HTTPClient
    func shutdownAsync(_ application: Application) async {
        try? await client.shutdown()
    }
}

/// The chat API as the local gateway serves it: API Gateway's routes pointing at this backend
/// (`backend` is its base URL, e.g. `http://127.0.0.1:8080`), each integration mapping
/// `connectionId` from the context and sending the gateway secret as a static header.
public func chatLocalAPI(backend: String, settings: ChatSettings) -> LocalAPI {
    let routes: [String: String] = [
        "$connect": backend + "/ws/connect",
        "$disconnect": backend + "/ws/disconnect",
        "$default": backend + "/ws/default",
        "notifications": backend + "/websockets/notifications/",
    ]
    let secret: String = "'" + settings.secret + "'"
    let parameters: [String: String] = [
        "integration.request.header.connectionId": "context.connectionId",
        "integration.request.header.X-Ws-Gateway-Secret": secret,
    ]
    let api = LocalDeclaration.API(
        apiId: settings.gateway.apiID.rawValue, name: "chat", routeSelectionExpression: "$request.body.action",
        stages: [settings.gateway.stage], routes: routes, twoWayRoutes: [], requestParameters: parameters, timeoutInMillis: 29_000
    )
    return LocalDeclaration(apis: [api]).localAPIs()[0]
}
