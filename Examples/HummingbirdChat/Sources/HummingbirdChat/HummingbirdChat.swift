import APIGatewayAWS
public import APIGatewayLocal
import APIGatewayProvisioning
public import APIGatewayWebSockets
public import APIGatewayWebSocketsCommands
public import APIGatewayWebSocketsSQL
import AsyncHTTPClient
public import ChatCore
public import Configuration
import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import HTTPTypes
import Foundation
public import Hummingbird
import HummingbirdAPIGatewayWebSockets
import HummingbirdAuth
import HummingbirdBcrypt
public import Logging
import Mustache
import NIOCore
import NIOPosix
public import ServiceLifecycle
import Synchronization

/// The Hummingbird chat's settings. The command reads them through swift-configuration's
/// `ConfigReader`, the way Hummingbird reads its own (`ApplicationConfiguration(reader:)`): each
/// key is also an environment variable (`chat.rooms` is `CHAT_ROOMS`, the Vapor example's names),
/// and each has a default that runs on one machine.
public struct HummingbirdChatSettings: Sendable {
    /// `chat.database` (`CHAT_DATABASE`): the SQLite file. Default `hummingbird-chat.sqlite`.
    public var databasePath: String
    /// `database.url` (`DATABASE_URL`): a PostgreSQL database (`postgres://user:password@host:5432/name`)
    /// to use instead of the SQLite file.
    public var databaseURL: String?
    /// `http.host`, `http.port` (`HTTP_HOST`, `HTTP_PORT`; `--hostname`, `--port`): the address the
    /// app serves its pages and API Gateway's events on.
    public var hostname: String
    public var port: Int
    /// The rest of Hummingbird's own settings, read by Hummingbird from the `http` keys
    /// (`http.serverName`, say); its address is always ``hostname``:``port``.
    public var server: ApplicationConfiguration
    /// `chat.gateway.port` (`CHAT_GATEWAY_PORT`, `--gateway-port`): the embedded local gateway's port. Default 8081.
    public var gatewayPort: Int
    /// `chat.local.gateway.state` (`CHAT_LOCAL_GATEWAY_STATE`): where the local gateway keeps its
    /// APIs, so a restart serves the same API at the same URL and the pages' connections resume.
    /// Default beside the SQLite file (`hummingbird-chat-local-gateway.json` with a `database.url`);
    /// empty: nothing kept, every start applies a new API.
    public var localGatewayStateFile: String?
    /// `ws.gateway.secret` (`WS_GATEWAY_SECRET`): the secret the integrations send. Default `local-development-secret`.
    public var secret: String
    /// `chat.demo.password` (`CHAT_DEMO_PASSWORD`): the demo accounts' password, set when they are first created.
    public var demoPassword: String
    /// `chat.rooms` (`CHAT_ROOMS`, comma-separated): the rooms every signed-in user may join; `staff` is the staff's.
    public var rooms: [ChannelName]
    /// `chat.origins` (`CHAT_ORIGINS`, comma-separated): the origins whose pages may log in, get
    /// tokens and connect. Default the app's own address, as `127.0.0.1` and `localhost`.
    public var allowedOrigins: [String]
    /// `chat.authorizer` (`CHAT_AUTHORIZER=on`, `serve --authorizer`): the user comes from a Lambda
    /// `REQUEST` authorizer on `$connect` instead of the login cookie. The app serves the
    /// authorizer itself at `POST /authorizer` (``ChatAuthorizer``: it checks the connection token
    /// the page brings), the embedded local gateway calls it for ``ChatAuthorizer/functionARN``,
    /// and its principal reaches the app behind the gateway secret.
    public var authorizer = false

    /// - Parameter localGatewayState: where the local gateway keeps its APIs; `nil`: beside the
    ///   database; empty: nowhere.
    public init(
        databasePath: String = "hummingbird-chat.sqlite", databaseURL: String? = nil, hostname: String = "127.0.0.1", port: Int = 8080,
        gatewayPort: Int = 8081, localGatewayState: String? = nil, secret: String = "local-development-secret",
        demoPassword: String = ChatDemo.defaultPassword, rooms: [ChannelName] = ["lobby", "games", "random"], allowedOrigins: [String]? = nil
    ) {
        self.databasePath = databasePath
        self.databaseURL = databaseURL
        self.hostname = hostname
        self.port = port
        self.server = ApplicationConfiguration(address: .hostname(hostname, port: port), serverName: "hummingbird-chat")
        self.gatewayPort = gatewayPort
        let state = localGatewayState ?? (databaseURL == nil ? databasePath + ".local-gateway.json" : "hummingbird-chat-local-gateway.json")
        self.localGatewayStateFile = state.isEmpty ? nil : state
        self.secret = secret
        self.demoPassword = demoPassword
        self.rooms = rooms
        self.allowedOrigins = allowedOrigins ?? Self.origins(hostname: hostname, port: port)
    }

    /// The settings from `config`: typically the command line's options over the environment.
    /// - Throws: ``HummingbirdChatError`` naming the key whose value is not what it must be.
    public init(config: ConfigReader) throws {
        func text(_ key: ConfigKey, secret: Bool = false) -> String? {
            config.string(forKey: key, isSecret: secret).flatMap { $0.isEmpty ? nil : $0 }
        }
        func portNumber(_ key: ConfigKey, default value: Int) throws -> Int {
            guard let text = text(key) else { return value }
            guard let port = Int(text), (0...65_535).contains(port) else {
                throw HummingbirdChatError(description: "\(Self.name(of: key)) must be a port number from 0 to 65535, not '\(text)'")
            }
            return port
        }
        func list(_ key: ConfigKey) -> [String]? {
            text(key).map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        }
        let rooms: [ChannelName]?
        do { rooms = try list("chat.rooms").map { try $0.map { try ChannelName($0) } } } catch {
            throw HummingbirdChatError(description: "CHAT_ROOMS (chat.rooms): \(error)")
        }
        self.init(
            databasePath: text("chat.database") ?? "hummingbird-chat.sqlite", databaseURL: text("database.url", secret: true),
            hostname: text("http.host") ?? "127.0.0.1", port: try portNumber("http.port", default: 8080),
            gatewayPort: try portNumber("chat.gateway.port", default: 8081),
            localGatewayState: config.string(forKey: "chat.local.gateway.state"),
            secret: text("ws.gateway.secret", secret: true) ?? "local-development-secret",
            demoPassword: text("chat.demo.password", secret: true) ?? ChatDemo.defaultPassword,
            rooms: rooms ?? ["lobby", "games", "random"], allowedOrigins: list("chat.origins"))
        // Hummingbird reads its own keys (`http.serverName`, …); the address stays the one read above.
        var server = ApplicationConfiguration(reader: config.scoped(to: "http"))
        server.address = .hostname(hostname, port: port)
        if text("http.serverName") == nil { server.serverName = "hummingbird-chat" }
        self.server = server
        self.authorizer = text("chat.authorizer").map { ["on", "true", "1"].contains($0.lowercased()) } ?? false
    }

    /// A key as its environment variable and its key, for errors.
    static func name(of key: ConfigKey) -> String {
        "\(key.components.joined(separator: "_").uppercased()) (\(key.components.joined(separator: ".")))"
    }

    static func origins(hostname: String, port: Int) -> [String] {
        // Any free port: the host alone, whatever port the app gets.
        if port == 0 { return ["127.0.0.1", "localhost"] + (["127.0.0.1", "localhost", "0.0.0.0", "::"].contains(hostname) ? [] : [hostname]) }
        var origins = ["http://127.0.0.1:\(port)", "http://localhost:\(port)"]
        if !["127.0.0.1", "localhost", "0.0.0.0", "::"].contains(hostname) { origins.append("http://\(hostname):\(port)") }
        return origins
    }
}

/// A fault of the example's own setup.
public struct HummingbirdChatError: Error, CustomStringConvertible {
    public let description: String
}

/// The web session of a login: who, the fingerprint of the account's state when they logged in
/// (a password change, a deactivation or a demotion ends the login), and an id of its own, which
/// the login's connections carry so that logging out closes them.
struct ChatLogin: Codable, Sendable {
    let user: String
    let authState: String
    let loginID: String
}

/// Who the login found, for the page and `$connect`.
struct ChatIdentity: Sendable {
    let name: String
    let staff: Bool
    let login: ChatLogin
}

/// A request's context: its login (hummingbird-auth's session and identity) and the address it
/// came from (the login throttle counts per address).
struct ChatContext: AuthRequestContext, SessionRequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    var identity: ChatIdentity?
    let sessions = SessionContext<ChatLogin>()
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// The chat on Hummingbird 2: the same page, rooms, rules, presence, history and resume as the
/// Vapor example, with hummingbird-auth's sessions in the framework's tables, the door's token
/// endpoint and client script, and the embedded local gateway, all `Service`s of one
/// `ServiceGroup`.
public final class HummingbirdChat: Sendable {
    public let settings: HummingbirdChatSettings
    let databases: Databases
    let store: FluentConnectionStore
    let dispatcher: GatewayDispatcher
    let gateway: HummingbirdWebSocketGateway<ChatContext>
    let webSessions: WebSessionStore
    /// The embedded local gateway in front of the app.
    public let localGateway: LocalGateway
    let pageSettings: Mutex<ClientSettings?>
    let directory: CachedGatewayDirectory
    let logger: Logger

    private init(
        settings: HummingbirdChatSettings, databases: Databases, store: FluentConnectionStore, dispatcher: GatewayDispatcher,
        gateway: HummingbirdWebSocketGateway<ChatContext>, webSessions: WebSessionStore, localGateway: LocalGateway,
        directory: CachedGatewayDirectory, logger: Logger
    ) {
        self.settings = settings
        self.databases = databases
        self.store = store
        self.dispatcher = dispatcher
        self.gateway = gateway
        self.webSessions = webSessions
        self.localGateway = localGateway
        self.pageSettings = Mutex(nil)
        self.directory = directory
        self.logger = logger
    }

    /// Opens the database, migrates it, seeds the demo accounts and the rooms' rules.
    public static func make(settings: HummingbirdChatSettings, logger: Logger = Logger(label: "hummingbird-chat")) async throws -> HummingbirdChat {
        let databases = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)
        if let url = settings.databaseURL {
            databases.use(try .postgres(url: url, maxConnectionsPerEventLoop: 8, connectionPoolTimeout: .seconds(3)), as: .psql)
        } else {
            databases.use(.sqlite(.file(settings.databasePath)), as: .sqlite)
        }
        do {
            try await databases.migrateGateway(WebSocketMigrations.all + [CreateChatUsers()], logger: logger)
            let database: @Sendable () throws -> any Database = { try databases.gatewayDatabase(logger: logger) }
            try await ChatDemo.seed(
                password: settings.demoPassword, hash: { Bcrypt.hash($0, cost: UInt8(ChatDemo.cost)) }, on: try database())
            let store = FluentConnectionStore(databases: databases, logger: logger)
            let rooms = settings.rooms.map { ($0, ChannelAccess.everyone) } + [("staff", .staff)]
            for (room, access) in rooms where try await store.channelRule(for: room) == nil {
                try await store.saveChannelRule(ChannelRule(channel: room, access: access))
            }
            let configuration = GatewayConfiguration(
                secrets: [settings.secret], allowedOrigins: settings.allowedOrigins,
                connectRateLimits: .init(perAddress: .init(120, per: .seconds(60)), perUser: .init(60, per: .seconds(60))),
                channels: ChannelConfiguration(unlisted: .deny, presenceEvents: true), streams: StreamConfiguration(),
                gatewayIdentity: settings.authorizer ? .authorizerPrincipal() : nil)
            // The gateway records the provisioner writes (`gateway apply`, the local gateway's step).
            let directory = CachedGatewayDirectory.gatewayRecords(in: database)
            let dispatcher = GatewayDispatcher(
                configuration: configuration, store: store, gateways: directory,
                poster: ManagementClient(
                    httpClient: .shared, credentials: StaticCredentialProvider(LocalGatewayConfiguration.developmentCredential)),
                permissions: ChatPermissions(database: database), authState: ChatAuthState(database: database), logger: logger)
            // Registered here, not where the router is built: the `gateway` commands plan from them.
            _ = try dispatcher.register(ChatController())
            _ = try dispatcher.register(NotificationsController(), at: "/websockets/notifications/")
            let webSessions = WebSessionStore(store: store)
            let gateway = HummingbirdWebSocketGateway<ChatContext>(
                dispatcher: dispatcher, connectMiddleware: Self.login(webSessions: webSessions, database: database)
            ) { _, context in
                context.identity.map { AuthenticatedUser(id: $0.name, webSessionID: $0.login.loginID, authStateHash: $0.login.authState) }
            }
            return HummingbirdChat(
                settings: settings, databases: databases, store: store, dispatcher: dispatcher, gateway: gateway, webSessions: webSessions,
                localGateway: LocalGateway(
                    configuration: LocalGatewayConfiguration(port: settings.gatewayPort, stateFile: settings.localGatewayStateFile),
                    logger: logger),
                directory: directory, logger: logger)
        } catch {
            await databases.shutdownAsync()
            throw error
        }
    }

    /// The login's cookie.
    static let sessionCookie = "chat-session"

    /// The login's middleware: hummingbird-auth's sessions in the framework's table, and the
    /// account behind the session while its state is the one it logged in with.
    static func login(
        webSessions: WebSessionStore, database: @escaping @Sendable () throws -> any Database
    ) -> [any MiddlewareProtocol<Request, Response, ChatContext>] {
        [
            SessionMiddleware<ChatContext>(
                storage: SQLPersistDriver(store: webSessions),
                configuration: .init(
                    sessionCookieParameters: .init(name: sessionCookie, sameSite: .lax), defaultSessionExpiration: .seconds(12 * 3600))),
            SessionAuthenticator(context: ChatContext.self) { (login: ChatLogin, _) -> ChatIdentity? in
                guard let user = try await ChatUser.named(login.user, on: try database()), user.isActive,
                    login.authState == ChatAuthState.fingerprint(user.loginState)
                else { return nil }
                return ChatIdentity(name: user.name, staff: user.isStaff || user.isAdmin, login: login)
            },
        ]
    }

    /// The maintenance commands' view of the app (its store, rules and configuration), for one
    /// command: opened on the app's database, closed after.
    public static func withMaintenance<T: Sendable>(
        settings: HummingbirdChatSettings, _ body: @Sendable (GatewayMaintenance) async throws -> T
    ) async throws -> T {
        try await withChat(settings: settings) { chat in
            try await body(GatewayMaintenance(dispatcher: chat.dispatcher, cleanupSteps: [chat.webSessions.cleanupStep], logger: chat.logger))
        }
    }

    /// The `gateway` commands' view of the app: its routes, configuration and gateway records, with
    /// control-plane clients at `endpoint` (the local gateway, moto) or AWS's. A loopback endpoint
    /// is taken to be the local gateway, and signed with its development credential; any other
    /// with the usual chain (environment, `~/.aws` files, container, instance metadata).
    public static func withProvisioner<T: Sendable>(
        settings: HummingbirdChatSettings, endpoint: String?, _ body: @Sendable (GatewayProvisioner) async throws -> T
    ) async throws -> T {
        try await withChat(settings: settings) { chat in try await body(chat.provisioner(endpoint: endpoint)) }
    }

    /// `listen`: a channel's messages printed as they arrive, through the running app's gateway
    /// (``ChatListen``), with tokens issued in the app's database.
    public static func listen(settings: HummingbirdChatSettings, channel: String?, user: String?, count: Int?, seconds: Int?) async throws {
        try await withChat(settings: settings) { chat in
            try await ChatListen.run(
                channel: channel, user: user, count: count, seconds: seconds, identity: chat.dispatcher.identity,
                database: try chat.databases.gatewayDatabase(logger: chat.logger))
        }
    }

    private static func withChat<T: Sendable>(settings: HummingbirdChatSettings, _ body: (HummingbirdChat) async throws -> T) async throws -> T {
        let chat = try await make(settings: settings, logger: Logger(label: "hummingbird-chat"))
        do {
            let result = try await body(chat)
            await chat.databases.shutdownAsync()
            return result
        } catch {
            await chat.databases.shutdownAsync()
            throw error
        }
    }

    /// The app's provisioner, its clients at `endpoint` (see ``withProvisioner(settings:endpoint:_:)``).
    func provisioner(endpoint: String?) -> GatewayProvisioner {
        let loopback = endpoint.flatMap { URL(string: $0)?.host }.map { ["127.0.0.1", "localhost", "::1", "[::1]"].contains($0) } ?? false
        let credentials: any CredentialProvider =
            loopback
            ? StaticCredentialProvider(LocalGatewayConfiguration.developmentCredential) : CredentialProviderChain.default(httpClient: .shared)
        return GatewayProvisioner(
            dispatcher: dispatcher, directory: directory,
            options: ProvisioningOptions(guards: settings.authorizer ? ChatAuthorizer.guards : DesiredAPI.Guards()), database: { [databases, logger] in try databases.gatewayDatabase(logger: logger) }
        ) { region in
            ControlPlaneClient(httpClient: .shared, credentials: credentials, region: region, endpoint: endpoint)
        }
    }

    /// The app's routes: the page, its script and style, login and logout, the token endpoint,
    /// the client script, and API Gateway's events.
    func router() throws -> Router<ChatContext> {
        let router = Router(context: ChatContext.self)
        router.add(middleware: RequestLines(logger: logger))
        let page = try MustacheTemplate(string: Self.template())
        let signedIn = router.group()
        for middleware in Self.login(webSessions: webSessions, database: { [databases, logger] in try databases.gatewayDatabase(logger: logger) }) {
            signedIn.add(middleware: middleware)
        }
        signedIn.get("/") { [self] _, context -> Response in
            var values: [String: Any] = [:]
            if let identity = context.identity {
                guard let settings = pageSettings.withLock({ $0 }) else {
                    return Response(
                        status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: "The chat's gateway is not provisioned yet: try again in a moment.")))
                }
                values = ["user": identity.name, "staff": identity.staff, "settings": settings.scriptElement]
            }
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8",
                    .contentSecurityPolicy: "default-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'",
                    HTTPField.Name("X-Frame-Options")!: "DENY",
                ],
                body: .init(byteBuffer: ByteBuffer(string: page.render(values))))
        }
        for (file, type, body) in try ChatAssets.files() {
            router.get(RouterPath(file)) { _, _ in
                Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"], body: .init(byteBuffer: ByteBuffer(string: body)))
            }
        }
        ChatLoginRoutes(dispatcher: dispatcher, store: store, webSessions: webSessions, database: { [databases, logger] in try databases.gatewayDatabase(logger: logger) })
            .register(on: signedIn)
        if settings.authorizer, let identity = dispatcher.identity {
            router.post("authorizer") { request, _ -> Response in
                let (status, answer) = try await ChatAuthorizer.answer(
                    Data(buffer: try await request.body.collect(upTo: 64 * 1024)), identity: identity)
                return Response(
                    status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(bytes: answer)))
            }
        }
        try gateway.serveConnectionTokens(on: router)
        try gateway.serveClientScript(on: router)
        gateway.serveRegisteredControllers(on: router)
        return router
    }

    /// The app, the local gateway in front of it, the framework's services and the database, as
    /// one `ServiceGroup`: once both listen, the app's routes are applied to the local gateway
    /// through the planner, as `gateway apply` does against AWS, and pages learn the URL.
    public func services(onReady: @escaping @Sendable (_ page: String, _ webSocket: String) -> Void = { _, _ in }) throws -> ServiceGroup {
        let app = Application(
            router: try router(),
            configuration: settings.server,
            onServerRunning: { [self] channel in
                // Where the gateway reaches the app: the address it bound, a wildcard as loopback.
                let address = channel.localAddress
                let port = address?.port ?? settings.port
                let host: String =
                    switch address?.ipAddress {
                    case "0.0.0.0", nil: "127.0.0.1"
                    case "::": "[::1]"
                    case let ip? where ip.contains(":"): "[\(ip)]"
                    case let ip?: ip
                    }
                Task {
                    do {
                        let url = try await provision(backend: "http://\(host):\(port)")
                        onReady("http://\(host):\(port)/", url)
                    } catch {
                        logger.error("the local gateway could not be provisioned", metadata: ["error": "\(error)"])
                    }
                }
            }, logger: logger)
        // Started in this order and stopped in the reverse: the local gateway first, so that its
        // connections' `$disconnect` calls still reach the app; the database last.
        let services: [any Service] =
            [databases, SQLPersistDriver(store: webSessions)] + gateway.services(cleanupSteps: [webSessions.cleanupStep], logger: logger)
            + [app, localGateway]
        return ServiceGroup(
            configuration: .init(services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    }

    /// Applies the app's routes to the local gateway (`backend` is where the app listens) through
    /// the `chat` gateway record, as `gateway apply` does against AWS, and returns the WebSocket URL.
    func provision(backend: String) async throws -> String {
        let controlPort = try await localGateway.waitUntilRunning()
        // The authorizer's Lambda function is the app's own `POST /authorizer`, wherever it listens.
        if settings.authorizer { localGateway.mapAuthorizerFunction(ChatAuthorizer.functionARN, to: backend + "/authorizer") }
        let (_, url) = try await ChatLocalGateway.apply(
            provisioner(endpoint: "http://127.0.0.1:\(controlPort)"), database: try databases.gatewayDatabase(logger: logger),
            backend: backend, stage: "local", region: "us-east-1", existingAPIs: Set(localGateway.currentAPIs.map(\.apiId)))
        // The client's heartbeat is the one the backend answers.
        let page = ClientSettings(
            url: url, tokenURL: "/ws/token", channels: ["lobby"], heartbeatAction: dispatcher.configuration.heartbeatAction)
        pageSettings.withLock { $0 = page }
        return url
    }

    static func template() throws -> String {
        guard let url = Bundle.module.url(forResource: "chat", withExtension: "mustache", subdirectory: "Views") else {
            throw HummingbirdChatError(description: "Views/chat.mustache is missing from the example's resources")
        }
        return try String(contentsOf: url, encoding: .utf8)
    }
}

/// A line per request at `info`, `POST /ws/connect` (the method and path), as the Vapor example
/// logs them: what an operator reads to see who API Gateway called.
struct RequestLines<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        logger.info("\(request.method) \(request.uri.path)")
        return try await next(request, context)
    }
}
