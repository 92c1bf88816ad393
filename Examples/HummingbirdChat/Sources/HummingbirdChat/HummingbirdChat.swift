import APIGatewayAWS
public import APIGatewayLocal
import APIGatewayProvisioning
public import APIGatewayWebSockets
public import APIGatewayWebSocketsCommands
import APIGatewayWebSocketsSQL
import AsyncHTTPClient
public import ChatCore
import FluentKit
import FluentSQLiteDriver
import HTTPTypes
import Foundation
import Hummingbird
import HummingbirdAPIGatewayWebSockets
import HummingbirdAuth
import HummingbirdBcrypt
public import Logging
import Mustache
import NIOCore
import NIOPosix
public import ServiceLifecycle
import Synchronization

/// The Hummingbird chat's settings; each has an environment variable (the Vapor example's names)
/// and a default that runs on one machine.
public struct HummingbirdChatSettings: Sendable {
    /// `CHAT_DATABASE`: the SQLite file. Default `hummingbird-chat.sqlite`.
    public var databasePath: String
    /// The address the app serves its pages and API Gateway's events on (`--hostname`, `--port`).
    public var hostname: String
    public var port: Int
    /// `CHAT_GATEWAY_PORT` (`--gateway-port`): the embedded local gateway's port. Default 8081.
    public var gatewayPort: Int
    /// `WS_GATEWAY_SECRET`: the secret the integrations send. Default `local-development-secret`.
    public var secret: String
    /// `CHAT_DEMO_PASSWORD`: the demo accounts' password, set when they are first created.
    public var demoPassword: String
    /// `CHAT_ROOMS` (comma-separated): the rooms every signed-in user may join; `staff` is the staff's.
    public var rooms: [ChannelName]
    /// `CHAT_ORIGINS` (comma-separated): the origins whose pages may log in, get tokens and
    /// connect. Default the app's own address, as `127.0.0.1` and `localhost`.
    public var allowedOrigins: [String]

    public init(
        databasePath: String = "hummingbird-chat.sqlite", hostname: String = "127.0.0.1", port: Int = 8080, gatewayPort: Int = 8081,
        secret: String = "local-development-secret", demoPassword: String = ChatDemo.defaultPassword,
        rooms: [ChannelName] = ["lobby", "games", "random"], allowedOrigins: [String]? = nil
    ) {
        self.databasePath = databasePath
        self.hostname = hostname
        self.port = port
        self.gatewayPort = gatewayPort
        self.secret = secret
        self.demoPassword = demoPassword
        self.rooms = rooms
        self.allowedOrigins = allowedOrigins ?? Self.origins(hostname: hostname, port: port)
    }

    /// The settings from the environment, for the app served at `hostname:port`.
    public static func fromEnvironment(hostname: String, port: Int, gatewayPort: Int?) throws -> HummingbirdChatSettings {
        let environment = ProcessInfo.processInfo.environment
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let rooms = try value("CHAT_ROOMS").map { try $0.split(separator: ",").map { try ChannelName(String($0)) } }
        var gateway = gatewayPort ?? 8081
        if gatewayPort == nil, let text = value("CHAT_GATEWAY_PORT") {
            guard let port = Int(text), (0...65_535).contains(port) else {
                throw HummingbirdChatError(description: "CHAT_GATEWAY_PORT must be a port number, not '\(text)'")
            }
            gateway = port
        }
        return HummingbirdChatSettings(
            databasePath: value("CHAT_DATABASE") ?? "hummingbird-chat.sqlite", hostname: hostname, port: port, gatewayPort: gateway,
            secret: value("WS_GATEWAY_SECRET") ?? "local-development-secret", demoPassword: value("CHAT_DEMO_PASSWORD") ?? ChatDemo.defaultPassword,
            rooms: rooms ?? ["lobby", "games", "random"],
            allowedOrigins: value("CHAT_ORIGINS").map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } })
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
    let records: Records
    let directory: CachedGatewayDirectory
    let logger: Logger

    private init(
        settings: HummingbirdChatSettings, databases: Databases, store: FluentConnectionStore, dispatcher: GatewayDispatcher,
        gateway: HummingbirdWebSocketGateway<ChatContext>, webSessions: WebSessionStore, localGateway: LocalGateway,
        records: Records, directory: CachedGatewayDirectory, logger: Logger
    ) {
        self.settings = settings
        self.databases = databases
        self.store = store
        self.dispatcher = dispatcher
        self.gateway = gateway
        self.webSessions = webSessions
        self.localGateway = localGateway
        self.pageSettings = Mutex(nil)
        self.records = records
        self.directory = directory
        self.logger = logger
    }

    /// Opens the database, migrates it, seeds the demo accounts and the rooms' rules.
    public static func make(settings: HummingbirdChatSettings, logger: Logger = Logger(label: "hummingbird-chat")) async throws -> HummingbirdChat {
        let databases = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)
        databases.use(.sqlite(.file(settings.databasePath)), as: .sqlite)
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
            let records = Records()
            let configuration = GatewayConfiguration(
                secrets: [settings.secret], allowedOrigins: settings.allowedOrigins,
                connectRateLimits: .init(perAddress: .init(120, per: .seconds(60)), perUser: .init(60, per: .seconds(60))),
                channels: ChannelConfiguration(unlisted: .deny, presenceEvents: true), streams: StreamConfiguration())
            let directory = CachedGatewayDirectory { records.all.withLock { $0 } }
            let dispatcher = GatewayDispatcher(
                configuration: configuration, store: store, gateways: directory,
                poster: ManagementClient(
                    httpClient: .shared, credentials: StaticCredentialProvider(LocalGatewayConfiguration.developmentCredential)),
                permissions: ChatPermissions(database: database), authState: ChatAuthState(database: database), logger: logger)
            let webSessions = WebSessionStore(store: store)
            let gateway = HummingbirdWebSocketGateway<ChatContext>(
                dispatcher: dispatcher, connectMiddleware: Self.login(webSessions: webSessions, database: database)
            ) { _, context in
                context.identity.map { AuthenticatedUser(id: $0.name, webSessionID: $0.login.loginID, authStateHash: $0.login.authState) }
            }
            return HummingbirdChat(
                settings: settings, databases: databases, store: store, dispatcher: dispatcher, gateway: gateway, webSessions: webSessions,
                localGateway: LocalGateway(configuration: LocalGatewayConfiguration(port: settings.gatewayPort)),
                records: records, directory: directory, logger: logger)
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
        let chat = try await make(settings: settings, logger: Logger(label: "hummingbird-chat"))
        do {
            let result = try await body(
                GatewayMaintenance(dispatcher: chat.dispatcher, cleanupSteps: [chat.webSessions.cleanupStep], logger: chat.logger))
            await chat.databases.shutdownAsync()
            return result
        } catch {
            await chat.databases.shutdownAsync()
            throw error
        }
    }

    /// The app's routes: the page, its script and style, login and logout, the token endpoint,
    /// the client script, and API Gateway's events.
    func router() throws -> Router<ChatContext> {
        let router = Router(context: ChatContext.self)
        router.add(middleware: LogRequestsMiddleware(.debug))
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
        try gateway.serveConnectionTokens(on: router)
        try gateway.serveClientScript(on: router)
        try gateway.register(ChatController(), on: router)
        try gateway.register(NotificationsController(), at: "/websockets/notifications/", on: router)
        return router
    }

    /// The app, the local gateway in front of it, the framework's services and the database, as
    /// one `ServiceGroup`: once both listen, the app's routes are applied to the local gateway
    /// through the planner, as `gateway apply` does against AWS, and pages learn the URL.
    public func services(onReady: @escaping @Sendable (_ page: String, _ webSocket: String) -> Void = { _, _ in }) throws -> ServiceGroup {
        let app = Application(
            router: try router(),
            configuration: .init(address: .hostname(settings.hostname, port: settings.port), serverName: "hummingbird-chat"),
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

    /// Applies the app's routes to the local gateway (`backend` is where the app listens) and
    /// returns the WebSocket URL.
    func provision(backend: String) async throws -> String {
        let controlPort = try await localGateway.waitUntilRunning()
        let desired = DesiredAPI(
            name: "hummingbird-chat", stage: "local", routes: dispatcher.routes, publicBaseURL: backend,
            secret: settings.secret, twoWayRouteKeys: [])
        let client = ControlPlaneClient(
            httpClient: .shared, credentials: StaticCredentialProvider(LocalGatewayConfiguration.developmentCredential), region: "us-east-1",
            endpoint: "http://127.0.0.1:\(controlPort)")
        let applied = try await Planner.apply(try Planner.plan(desired, existing: nil), client: client)
        let record = GatewayRecord(
            apiID: applied.apiID, stage: "local", region: "us-east-1",
            managementEndpoint: try ManagementEndpoint(url: "http://127.0.0.1:\(controlPort)/\(applied.apiID.rawValue)/local"))
        records.all.withLock { $0 = [record] }
        _ = try await directory.reload()
        let url = (applied.apiEndpoint ?? "ws://127.0.0.1:\(controlPort)") + "/local"
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

/// The API the app was applied to, once it was: what the dispatcher's directory reads.
final class Records: Sendable {
    let all = Mutex<[GatewayRecord]>([])
}
