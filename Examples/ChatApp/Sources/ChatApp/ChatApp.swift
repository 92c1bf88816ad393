import APIGatewayAWS
import APIGatewayLocal
import APIGatewayProvisioning
import APIGatewayWebSockets
import ChatCore
import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Prometheus
import SQLKit
import Vapor
import VaporAPIGatewayWebSockets

/// The chat example's settings; every field has an environment variable and a default that
/// runs on one machine.
public struct ChatSettings: Sendable {
    /// `CHAT_DATABASE`: the SQLite file sessions live in. Default `chat.sqlite`.
    public var databasePath: String
    /// `DATABASE_URL`: a PostgreSQL database (`postgres://user:password@host:5432/name`) to use
    /// instead of the SQLite file: several instances can then share it behind a load balancer.
    public var databaseURL: String?
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

    /// `CHAT_DEMO_PASSWORD`: the password of the demo accounts `ada`, `bob` and `admin`, set when
    /// they are first created. Default ``ChatDemo/defaultPassword``.
    public var demoPassword: String
    /// `CHAT_ORIGINS` (comma-separated): the origins whose pages may log in, get tokens and
    /// connect. Default the app's own: the address `serve` listens on (`--port`, `--hostname`,
    /// `--bind`; 8080 by default) as `http://127.0.0.1:PORT` and `http://localhost:PORT`, and the
    /// host named, if another.
    public var allowedOrigins: [String]

    /// `CHAT_LOCAL_GATEWAY`: `off` runs the backend alone (behind a real API Gateway); otherwise
    /// the local gateway runs in front of it, provisioned through the planner at start.
    public var embeddedGateway: Bool
    /// `CHAT_GATEWAY_PORT`: the embedded local gateway's port. Default 8081.
    public var gatewayPort: Int
    /// `CHAT_LOCAL_GATEWAY_STATE`: where the embedded local gateway keeps its APIs, so a restart
    /// serves the same API at the same WebSocket URL, as an API on AWS outlives its backend.
    /// Default beside the SQLite file (`chat.sqlite.local-gateway.json`), or
    /// `chat-local-gateway.json` with `DATABASE_URL`; empty: nothing kept.
    public var localGatewayStateFile: String?
    /// `--authorizer` (or `CHAT_AUTHORIZER=on`): the user comes from a Lambda `REQUEST` authorizer
    /// on `$connect` instead of the login cookie. The app serves the authorizer itself at
    /// `POST /authorizer` (it checks the connection token the page brings), the embedded local
    /// gateway calls it for the function ``ChatAuthorizer/functionARN``, and its principal reaches
    /// the app through `gatewayIdentity`.
    public var authorizer = false

    /// How long a login lasts (12 hours unused, 7 days at most). `CHAT_SESSION_IDLE_SECONDS` and
    /// `CHAT_SESSION_MAX_SECONDS` set them; the cookie is `Secure` when every allowed origin is
    /// `https`.
    public var webSessions: WebSessionPolicy
    /// `CHAT_LOGIN_ATTEMPTS`: password attempts allowed per name in 5 minutes (three times as
    /// many per address). Default 10.
    public var loginAttempts: Int
    /// `CHAT_CLEANUP_SECONDS`: how often expired sessions, tokens, hits and logins are deleted.
    /// Default 600.
    public var cleanupInterval: Duration
    /// `CHAT_ROOMS` (comma-separated): the rooms every signed-in user may join, each given an
    /// `everyone` rule at start unless it has one; `staff` is the staff's. Any other room needs a
    /// rule (`channels set-rule`, the admin): channels no rule names are denied. Default
    /// `lobby,games,random`.
    public var rooms: [ChannelName]

    /// `CHAT_HISTORY_SIZE` (messages per room or user) and `CHAT_HISTORY_AGE` (seconds): how much
    /// of each stream is kept for a reconnecting client to catch up on and for `history`. Default
    /// 1,000 messages for 3 hours.
    public var history: StreamRetention
    /// `CHAT_DELIVERY_CLAIM_SECONDS`: how long an instance delivering a message holds it before
    /// another (or itself, restarted) takes it over, as after a crash. Default 30.
    public var deliveryClaim: Duration
    /// `CHAT_PUBLISH_KEY`: the server key of `POST /ws/publish` (`Authorization: Bearer KEY`), for
    /// other services to publish; unset or empty: no endpoint.
    public var publishKey: String?

    /// The rooms open to every signed-in user when `CHAT_ROOMS` is not set.
    public static let defaultRooms: [ChannelName] = ["lobby", "games", "random"]

    /// The local gateway's development keys, used when no AWS credentials are configured.
    public static let localCredentials = LocalGatewayConfiguration.developmentCredential

    public init(
        databasePath: String = "chat.sqlite",
        gateway: GatewayRecord? = nil,
        secret: String = "local-development-secret",
        credentials: Credential? = ChatSettings.localCredentials,
        demoPassword: String = ChatDemo.defaultPassword,
        allowedOrigins: [String] = ["http://127.0.0.1:8080", "http://localhost:8080"],
        embeddedGateway: Bool = true,
        gatewayPort: Int = 8081,
        databaseURL: String? = nil,
        webSessions: WebSessionPolicy? = nil,
        loginAttempts: Int = 10,
        cleanupInterval: Duration = .seconds(600),
        rooms: [ChannelName] = ChatSettings.defaultRooms,
        history: StreamRetention = StreamRetention(),
        publishKey: String? = nil,
        deliveryClaim: Duration = .seconds(30)
    ) {
        self.deliveryClaim = deliveryClaim
        self.rooms = rooms
        self.history = history
        self.publishKey = publishKey
        self.webSessions =
            webSessions
            ?? WebSessionPolicy(
                secureCookie: !allowedOrigins.isEmpty && allowedOrigins.allSatisfy { $0.lowercased().hasPrefix("https://") })
        self.loginAttempts = loginAttempts
        self.cleanupInterval = cleanupInterval
        self.localGatewayStateFile = databaseURL == nil ? databasePath + ".local-gateway.json" : "chat-local-gateway.json"
        self.databasePath = databasePath
        self.gateway =
            gateway
            ?? GatewayRecord(
                apiID: "chatlocal", stage: "local", region: "us-east-1",
                managementEndpoint: ManagementEndpoint(scheme: "http", host: "127.0.0.1", port: 8081, basePath: "/chatlocal/local")
            )
        self.secret = secret
        self.credentials = credentials
        self.demoPassword = demoPassword
        self.allowedOrigins = allowedOrigins
        self.embeddedGateway = embeddedGateway
        self.gatewayPort = gatewayPort
        self.databaseURL = databaseURL
    }

    /// The origins of the pages the app serves itself when `serve` runs with `arguments`
    /// (`--port`/`-p`, `--hostname`/`-H`, `--bind`/`-b`, as Vapor's serve command reads them).
    public static func servedOrigins(arguments: [String]) -> [String] {
        func value(_ names: String...) -> String? {
            guard let index = arguments.lastIndex(where: { names.contains($0) }), index + 1 < arguments.count else { return nil }
            return arguments[index + 1]
        }
        var host = value("--hostname", "-H")
        var port = value("--port", "-p").flatMap(Int.init)
        if let bind = value("--bind", "-b"), let colon = bind.lastIndex(of: ":") {
            host = String(bind[..<colon])
            port = Int(bind[bind.index(after: colon)...]) ?? port
        }
        let served = port ?? 8080
        var origins = ["http://127.0.0.1:\(served)", "http://localhost:\(served)"]
        if let host, !["127.0.0.1", "localhost", "0.0.0.0", "::", "[::]"].contains(host) {
            origins.append("http://\(host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host):\(served)")
        }
        return origins
    }

    /// The settings from the environment, with defaults; `arguments` (the command line) tell the
    /// default origins which address `serve` listens on.
    public static func fromEnvironment(arguments: [String] = CommandLine.arguments) throws -> ChatSettings {
        let defaults = ChatSettings(allowedOrigins: servedOrigins(arguments: arguments))
        return ChatSettings(
            databasePath: Environment.get("CHAT_DATABASE") ?? defaults.databasePath,
            gateway: GatewayRecord(
                apiID: try Environment.get("CHAT_API_ID").map { try APIID($0) } ?? defaults.gateway.apiID,
                stage: Environment.get("CHAT_STAGE") ?? defaults.gateway.stage,
                region: Environment.get("CHAT_REGION") ?? defaults.gateway.region,
                managementEndpoint: try Environment.get("CHAT_MANAGEMENT_ENDPOINT").map {
                    $0.isEmpty ? nil : try ManagementEndpoint(url: $0)
                }
                    ?? defaults.gateway.managementEndpoint
            ),
            secret: Environment.get("WS_GATEWAY_SECRET") ?? defaults.secret,
            // With AWS credentials in the environment, the chain (not the local keys) signs.
            credentials: Environment.get("AWS_ACCESS_KEY_ID") == nil && Environment.get("AWS_PROFILE") == nil
                ? ChatSettings.localCredentials : nil,
            demoPassword: Environment.get("CHAT_DEMO_PASSWORD").flatMap { $0.isEmpty ? nil : $0 } ?? defaults.demoPassword,
            allowedOrigins: Environment.get("CHAT_ORIGINS").map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
                ?? defaults.allowedOrigins,
            embeddedGateway: Environment.get("CHAT_LOCAL_GATEWAY") != "off",
            gatewayPort: Int(Environment.get("CHAT_GATEWAY_PORT") ?? "") ?? defaults.gatewayPort,
            databaseURL: Environment.get("DATABASE_URL").flatMap { $0.isEmpty ? nil : $0 },
            webSessions: nil,
            loginAttempts: try seconds("CHAT_LOGIN_ATTEMPTS") ?? defaults.loginAttempts,
            cleanupInterval: try seconds("CHAT_CLEANUP_SECONDS").map { .seconds($0) } ?? defaults.cleanupInterval,
            rooms: try Environment.get("CHAT_ROOMS").map { list in
                try list.split(separator: ",").map { try ChannelName($0.trimmingCharacters(in: .whitespaces)) }
            } ?? defaults.rooms,
            history: StreamRetention(
                messages: try seconds("CHAT_HISTORY_SIZE") ?? defaults.history.messages,
                age: try seconds("CHAT_HISTORY_AGE").map { .seconds($0) } ?? defaults.history.age),
            publishKey: Environment.get("CHAT_PUBLISH_KEY").flatMap { $0.isEmpty ? nil : $0 },
            deliveryClaim: try seconds("CHAT_DELIVERY_CLAIM_SECONDS").map { .seconds($0) } ?? defaults.deliveryClaim
        ).withSessionTimeouts(idle: try seconds("CHAT_SESSION_IDLE_SECONDS"), maximum: try seconds("CHAT_SESSION_MAX_SECONDS"))
            .withLocalGatewayState(Environment.get("CHAT_LOCAL_GATEWAY_STATE"))
            .withAuthorizer(Environment.get("CHAT_AUTHORIZER") == "on" || arguments.contains("--authorizer"))
    }

    private func withAuthorizer(_ on: Bool) -> ChatSettings {
        var settings = self
        settings.authorizer = on
        return settings
    }

    private func withLocalGatewayState(_ path: String?) -> ChatSettings {
        guard let path else { return self }
        var settings = self
        settings.localGatewayStateFile = path.isEmpty ? nil : path
        return settings
    }

    /// A positive whole number from the environment variable `name`, if set.
    private static func seconds(_ name: String) throws -> Int? {
        guard let text = Environment.get(name), !text.isEmpty else { return nil }
        guard let value = Int(text), value > 0 else {
            throw ChatError(description: "\(name) must be a positive whole number, not '\(text)'")
        }
        return value
    }

    private func withSessionTimeouts(idle: Int?, maximum: Int?) -> ChatSettings {
        var settings = self
        if let idle { settings.webSessions.idleTimeout = .seconds(idle) }
        if let maximum { settings.webSessions.absoluteTimeout = .seconds(maximum) }
        return settings
    }
}

/// Sets up the chat example on `app`: SQLite, migrations, the demo accounts, web sessions and
/// `POST /login`/`/logout`, the gateway with its login on `$connect`, the token endpoint
/// (`POST /ws/token`), the channel rule of the `staff` room, the two controllers (`$default` at
/// `/ws/…`, `notifications` at `/websockets/notifications/`), and replies through API Gateway's
/// `@connections` API with ``ManagementClient`` (or `poster`).
/// - Parameters:
///   - registerAPI: records `settings.gateway` as an API whose events are accepted (off when the
///     embedded local gateway is provisioned through the planner at start instead).
@discardableResult
///   - metrics: the Prometheus registry swift-metrics reports to (``ChatMetrics/bootstrap()``),
///     served at `GET /metrics`; `nil`: no endpoint.
public func configureChat(
    _ app: Application, settings: ChatSettings, poster: (any ConnectionPoster)? = nil, registerAPI: Bool = true,
    metrics: PrometheusCollectorRegistry? = nil
) async throws -> WebSocketGateway {
    let migrations: [any Migration] = [CreateChatUsers()]
    let store: FluentConnectionStore
    if let url = settings.databaseURL {
        store = try await usePostgreSQL(app, url: url, migrations: migrations)
    } else {
        store = try await useSQLite(app, path: settings.databasePath, migrations: migrations)
    }
    try await ChatDemo.seed(password: settings.demoPassword, hash: { try Bcrypt.hash($0, cost: ChatDemo.cost) }, on: app.db)
    // Request lines with the path escaped and a request id of the app's own, never the client's.
    app.middleware = Middlewares()
    app.middleware.use(RequestLogging())
    app.middleware.use(ErrorMiddleware.default(environment: app.environment))
    // Logins in the framework's table: they expire, an anonymous visitor stores nothing, and the
    // cookie is HttpOnly (Secure when the pages are served over HTTPS).
    app.sessions.configuration.cookieName = "chat-session"
    app.sessions.use(.database(store, policy: settings.webSessions))

    let login: [any Middleware] = [app.sessions.middleware, ChatSessionAuthenticator()]
    let configuration = GatewayConfiguration(
        secrets: [settings.secret], allowedOrigins: settings.allowedOrigins,
        connectRateLimits: .init(perAddress: .init(120, per: .seconds(60)), perUser: .init(60, per: .seconds(60))),
        channels: ChannelConfiguration(unlisted: .deny, presenceEvents: true),
        streams: StreamConfiguration(retention: settings.history, claimTimeout: settings.deliveryClaim),
        gatewayIdentity: settings.authorizer ? .authorizerPrincipal() : nil)
    let database: @Sendable () -> any Database = { app.db }
    let gateway = WebSocketGateway(
        app: app,
        configuration: configuration,
        store: store,
        poster: poster ?? makeManagementClient(app, settings: settings),
        provisioning: ProvisioningOptions(guards: settings.authorizer ? ChatAuthorizer.guards : DesiredAPI.Guards()),
        // The login finds the user of the token endpoint (and of a `$connect` that brings the cookie).
        authentication: ConnectAuthentication(middleware: login) { request in
            request.auth.get(ChatUser.self).map {
                AuthenticatedUser(
                    id: $0.name, webSessionID: request.session.id?.string, authStateHash: request.session.data[ChatAuthState.sessionKey])
            }
        },
        permissions: ChatPermissions(database: database),
        authState: ChatAuthState(database: database)
    )
    if settings.authorizer { ChatAuthorizer.register(on: app, identity: store) }
    app.asyncCommands.use(ChatListenCommand(identity: store), as: "listen")
    ChatLoginRoutes(
        login: login, gateway: gateway, configuration: configuration, throttle: try LoginThrottle(store: store, settings: settings)
    )
    .register(on: app.routes)
    gateway.scheduleCleanup(every: settings.cleanupInterval, on: app)
    if let key = settings.publishKey { try gateway.servePublishing(at: "ws/publish", key: key) }
    try gateway.serveConnectionTokens(at: "ws/token")
    try gateway.register(ChatController())
    try gateway.register(NotificationsController(), at: "/websockets/notifications/")
    // Every room has a rule (channels no rule names are denied): the open rooms and the staff
    // room, each unless someone has set one (`channels set-rule NAME …`, the admin).
    let rooms = settings.rooms.map { ($0, ChannelAccess.everyone) } + [("staff", .staff)]
    for (room, access) in rooms where try await store.channelRule(for: room) == nil {
        try await store.saveChannelRule(ChannelRule(channel: room, access: access))
    }
    if registerAPI { try await gateway.registerGateway(settings.gateway) }
    if let metrics { ChatMetrics.register(on: app, registry: metrics, gateway: gateway, login: login) }
    try ChatPages.register(
        on: app, gateway: gateway, login: login,
        controlPlane: ChatControlPlane(
            endpoint: { [embedded = settings.embeddedGateway, port = settings.gatewayPort] in
                embedded ? "http://127.0.0.1:\(app.localGateway?.port ?? port)" : nil
            },
            credentials: settings.embeddedGateway ? ChatSettings.localCredentials : nil))
    return gateway
}

/// Uses the SQLite file at `path` for `app`, runs the framework's migrations and `migrations`,
/// and answers the session store the way SQLite wants it: WAL, every session statement through
/// one connection (the pool of one event loop) instead of two connections waiting on each other's
/// write lock, and a statement that finds the file locked by another process for `busyTimeout`
/// failing (a 503) instead of waiting for ever.
public func useSQLite(
    _ app: Application, path: String, migrations: [any Migration] = [], busyTimeout: Duration = .seconds(3)
) async throws -> FluentConnectionStore {
    // `:memory:` is a database of this process alone (shared by its connections), nothing on disk.
    app.databases.use(.sqlite(path == ":memory:" ? .memory : .file(path), sqlLogLevel: .trace), as: .sqlite)
    try await useWriteAheadLog(app, busyTimeout: busyTimeout)
    app.migrations.add(WebSocketMigrations.all)
    app.migrations.add(migrations)
    try await app.autoMigrate()
    let writerLoop = app.eventLoopGroup.next()
    return FluentConnectionStore { [logger = app.logger] in
        guard let database = app.databases.database(.sqlite, logger: logger, on: writerLoop) else {
            throw StoreError.unavailable("the SQLite database is gone (shutting down?)")
        }
        return database
    }
}

/// Uses the PostgreSQL database at `url` for `app` and runs the framework's migrations and
/// `migrations`; every instance of the app may share it.
public func usePostgreSQL(_ app: Application, url: String, migrations: [any Migration] = []) async throws -> FluentConnectionStore {
    // A database that does not answer is a 503 within 3 s, not a wait of the default 10.
    app.databases.use(
        try .postgres(url: url, maxConnectionsPerEventLoop: 8, connectionPoolTimeout: .seconds(3), sqlLogLevel: .trace), as: .psql)
    app.migrations.add(WebSocketMigrations.all)
    app.migrations.add(migrations)
    try await app.autoMigrate()
    return FluentConnectionStore { app.db }
}

/// Puts the SQLite file in WAL mode, so readers never wait for the writer, lets each pooled
/// connection (one per event loop, kept for the app's life) commit without a full fsync
/// (`synchronous = NORMAL`: a crash may lose the last commits, never corrupt the file), and bounds
/// how long a statement waits for a write lock another process holds: `busy_timeout` replaces
/// sqlite-nio's busy handler, which retries at once for ever (a core spinning at 100% and every
/// store call hung until the lock goes), with SQLite's own, which sleeps between tries and gives up
/// after `busyTimeout`, so the event is a fast `503 store_unavailable`.
func useWriteAheadLog(_ app: Application, busyTimeout: Duration = .seconds(3)) async throws {
    let milliseconds = Int(busyTimeout / .milliseconds(1))
    for eventLoop in app.eventLoopGroup.makeIterator() {
        guard let sql = app.databases.database(.sqlite, logger: app.logger, on: eventLoop) as? any SQLDatabase else { return }
        try await sql.raw("PRAGMA busy_timeout = \(unsafeRaw: String(milliseconds))").run()
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

/// `serve`, with the local gateway in front: Vapor's own serve command binds first (so
/// `--port`, `--hostname` and `--bind` count), then the local gateway starts with its
/// integrations pointing at the address the server is listening on. The gateway stops with the app.
public struct ServeWithLocalGateway: AsyncCommand {
    public typealias Signature = ServeCommand.Signature

    /// The port the local gateway listens on (0: any free one).
    public let gatewayPort: Int
    public let settings: ChatSettings
    /// The chat's gateway, whose routes the local gateway's API serves once applied.
    public let gateway: WebSocketGateway

    public init(gatewayPort: Int, settings: ChatSettings, gateway: WebSocketGateway) {
        self.gatewayPort = gatewayPort
        self.settings = settings
        self.gateway = gateway
    }

    public var help: String { "Begins serving the app over HTTP, with the local gateway in front of it." }

    /// The embedded gateway's configuration: with ``ChatSettings/authorizer``, the authorizer's
    /// Lambda function is the app's own `POST /authorizer`.
    func localGatewayConfiguration(backend: String) -> LocalGatewayConfiguration {
        var configuration = LocalGatewayConfiguration(port: gatewayPort, stateFile: settings.localGatewayStateFile)
        if settings.authorizer { configuration.authorizerFunctions[ChatAuthorizer.functionARN] = backend + "/authorizer" }
        return configuration
    }

    public func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.servers.asyncCommand.run(using: context, signature: signature)
        guard let address = app.http.server.shared.localAddress, let port = address.port else {
            throw ChatError(description: "the local gateway needs the server on a TCP address, not a socket file")
        }
        let host = address.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "127.0.0.1"
        let backend = "http://\(host == "0.0.0.0" ? "127.0.0.1" : host == "[::]" ? "[::1]" : host):\(port)"
        let local = LocalGateway(
            configuration: localGatewayConfiguration(backend: backend), logger: app.logger)
        // A Service, run under the app's lifecycle: shut down gracefully (drained) with the app.
        let running = ServiceLifecycleHandler(local)
        app.lifecycle.use(running)
        running.start(logger: app.logger)
        _ = try await local.waitUntilRunning()
        app.storage[LocalGatewayKey.self] = local
        // The guide's step: the app's routes become the gateway's API through the planner.
        let record = try await ChatProvisioning.provisionLocalGateway(
            app, gateway: gateway, settings: settings, backend: backend, controlPlane: "http://127.0.0.1:\(local.port ?? gatewayPort)",
            existingAPIs: Set(local.currentAPIs.map(\.apiId)))
        let socket = gateway.clientSettings?.url ?? ""
        app.logger.notice("local gateway: API \(record.apiID) applied through the planner; connect to \(socket)")
        app.logger.notice(
            """
            open \(backend)/ in a browser and sign in as ada, bob or admin (staff), password '\(settings.demoPassword)' \
            (CHAT_DEMO_PASSWORD sets it for new accounts); the admin is at \(backend)/admin/websockets. Without a browser:
              curl -c jar -d name=ada -d password='\(settings.demoPassword)' \(backend)/login
              curl -b jar -X POST \(backend)/ws/token
              then connect to \(socket)?channel=lobby&ws_token=<token>
            """)
        // Written at once, also when standard output is a pipe or a file.
        FileHandle.standardOutput.write(Data("Chat: \(backend)/\n".utf8))
    }
}

extension Application {
    /// The local gateway ``ServeWithLocalGateway`` started, once it has.
    public var localGateway: LocalGateway? { storage[LocalGatewayKey.self] }
}

private struct LocalGatewayKey: StorageKey { typealias Value = LocalGateway }

/// A fault of the example's own setup.
public struct ChatError: Error, CustomStringConvertible {
    public let description: String
}

/// Where the example's logs go: standard error, so a command's standard output is its result
/// alone (`gateway export > api.yaml` writes the template and nothing else).
public enum ChatLogging {
    /// Whether `arguments` ask for help (`--help`, `-h`): the command then only prints its usage,
    /// so nothing is opened, migrated, created or logged.
    public static func isHelpRequest(_ arguments: [String]) -> Bool {
        arguments.dropFirst().contains { $0 == "--help" || $0 == "-h" }
    }

    /// Bootstraps logging from the command line. `--log-level LEVEL` (or Vapor's `--log`, or
    /// `LOG_LEVEL`) chooses the level; without one, `serve` logs at Vapor's default and every
    /// other command at `warning`, so a command prints its result and its problems only.
    public static func bootstrap(_ environment: inout Environment) throws {
        var arguments = environment.arguments
        var chosen: Logger.Level?
        if let index = arguments.firstIndex(of: "--log-level") {
            guard index + 1 < arguments.count, let level = Logger.Level(rawValue: arguments[index + 1]) else {
                throw ChatError(description: "--log-level takes one of: trace, debug, info, notice, warning, error, critical")
            }
            chosen = level
            arguments.removeSubrange(index...(index + 1))
            environment.arguments = arguments
        }
        let explicit = chosen != nil || arguments.contains("--log") || Environment.get("LOG_LEVEL") != nil
        let command = arguments.dropFirst().first
        let serving = !isHelpRequest(arguments) && (command.map { $0 == "serve" || $0.hasPrefix("-") } ?? true)
        let detected = try Logger.Level.detect(from: &environment)
        let level = chosen ?? (explicit || serving ? detected : .warning)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
