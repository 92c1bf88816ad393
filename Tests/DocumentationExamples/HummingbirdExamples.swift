import APIGatewayAWS
import APIGatewayProvisioning
import APIGatewayWebSockets
import APIGatewayWebSocketsCommands
import APIGatewayWebSocketsSQL
import ArgumentParser
import FluentKit
import FluentSQLiteDriver
import HTTPTypes
import Hummingbird
import HummingbirdAPIGatewayWebSockets
import HummingbirdAuth
import Logging
import NIOPosix
import ServiceLifecycle

/// The Hummingbird door's examples: AddingARoute.md and HummingbirdQuickStart.md.
enum HummingbirdExamples {
    /// AddingARoute.md, step 2.
    static func registerNotifications(
        gateway: HummingbirdWebSocketGateway<BasicRequestContext>, router: Router<BasicRequestContext>
    ) throws {
        try gateway.register(NotificationsController(), at: "/websockets/notifications/", on: router)
    }

    /// AddingARoute.md, step 3.
    static func applyTheRoutes(dispatcher: GatewayDispatcher, publicURL: String) async throws {
        let client = ControlPlaneClient(httpClient: .shared, credentials: CredentialProviderChain.default(), region: "eu-west-1")
        let desired = DesiredAPI(
            name: "chat", stage: "production", routes: dispatcher.routes, publicBaseURL: publicURL,
            secret: dispatcher.configuration.secrets.first)
        let plan = try Planner.plan(desired, existing: nil)  // a new API; ExistingAPI.read(_:stage:client:) reads one that exists
        print(plan)
        let applied = try await Planner.apply(plan, client: client)
        print(GatewayRecord(apiID: applied.apiID, stage: "production", region: "eu-west-1"))
    }

    /// HummingbirdQuickStart.md, logins on `$connect`.
    static func logins(dispatcher: GatewayDispatcher) -> HummingbirdWebSocketGateway<BasicRequestContext> {
        /// Bearer tokens the app issued, and whose they are.
        struct BearerLogins: Sendable {
            let users: [String: String]

            func user(_ request: Request) -> AuthenticatedUser? {
                guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
                return users[String(header.dropFirst(7))].map { AuthenticatedUser(id: $0) }
            }
        }

        let logins = BearerLogins(users: ["replace-with-a-token-your-app-issued": "ada"])
        let gateway = HummingbirdWebSocketGateway<BasicRequestContext>(dispatcher: dispatcher) { request, _ in
            logins.user(request)
        }
        return gateway
    }

    /// HummingbirdQuickStart.md, sending from outside a handler.
    static func announce(router: Router<BasicRequestContext>, dispatcher: GatewayDispatcher) {
        router.post("announce") { _, _ -> HTTPResponse.Status in
            guard let record = try await dispatcher.gateways.gateway("abc123defg") else { return .notFound }
            let report = try await dispatcher.messenger.send(try Payload(text: "Back in 5 minutes"), to: .everyone, on: record)
            return report.failedCount == 0 ? .accepted : .internalServerError
        }
    }
}

// HummingbirdQuickStart.md: the database, logins, tokens and services.
struct User: Sendable { let name: String }
typealias AppContext = BasicSessionRequestContext<String, User>

func backend(configuration: GatewayConfiguration, poster: any ConnectionPoster, logger: Logger) async throws -> ServiceGroup {
    let databases = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)
    databases.use(.sqlite(.file("app.sqlite")), as: .sqlite)
    try await databases.migrateGateway(logger: logger)  // the framework's tables
    let store = FluentConnectionStore(databases: databases, logger: logger)
    let webSessions = WebSessionStore(store: store)
    let dispatcher = GatewayDispatcher(
        configuration: configuration, store: store,
        gateways: CachedGatewayDirectory([GatewayRecord(apiID: "abc123defg", stage: "production", region: "eu-west-1")]),
        poster: poster, logger: logger)
    let sessions = SessionMiddleware<AppContext>(storage: SQLPersistDriver(store: webSessions))
    let gateway = HummingbirdWebSocketGateway<AppContext>(
        dispatcher: dispatcher,
        connectMiddleware: [sessions, SessionAuthenticator(context: AppContext.self) { (name: String, _) in User(name: name) }]
    ) { _, context in
        context.identity.map { AuthenticatedUser(id: $0.name) }
    }
    let router = Router(context: AppContext.self)
    router.group("login").add(middleware: sessions).post { _, context -> HTTPResponse.Status in
        context.sessions.createSession("ada")  // after checking a password, in a real app
        return .ok
    }
    try gateway.register(ChatController(), on: router)  // POST /ws/connect, /ws/disconnect, /ws/default
    try gateway.serveConnectionTokens(on: router)  // POST /ws/token
    try gateway.serveClientScript(on: router)  // GET /apigw-websockets.js
    let app = Application(router: router, logger: logger)
    // Started in order, stopped in reverse: the database closes last.
    let services: [any Service] = [databases, app] + gateway.services(cleanupSteps: [webSessions.cleanupStep], logger: logger)
    return ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm], logger: logger)
}

// HummingbirdQuickStart.md, the commands.
/// What the framework's commands open for one command: the app's database, and its dispatcher
/// with the same configuration and controllers as when it serves.
enum AppCommands: GatewayCommandEnvironment, GatewayProvisioningEnvironment {
    static func withMaintenance<T: Sendable>(_ body: @Sendable (GatewayMaintenance) async throws -> T) async throws -> T {
        try await withApp { dispatcher, _, _ in try await body(GatewayMaintenance(dispatcher: dispatcher)) }
    }

    static func withProvisioner<T: Sendable>(endpoint: String?, _ body: @Sendable (GatewayProvisioner) async throws -> T) async throws -> T {
        try await withApp { dispatcher, directory, database in
            let provisioner = GatewayProvisioner(dispatcher: dispatcher, directory: directory, database: database) { region in
                ControlPlaneClient(httpClient: .shared, credentials: CredentialProviderChain.default(), region: region, endpoint: endpoint)
            }
            return try await body(provisioner)
        }
    }

    static func withApp<T: Sendable>(
        _ body: (GatewayDispatcher, CachedGatewayDirectory, @escaping @Sendable () throws -> any Database) async throws -> T
    ) async throws -> T {
        let logger = Logger(label: "app")
        let databases = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)
        databases.use(.sqlite(.file("app.sqlite")), as: .sqlite)
        do {
            try await databases.migrateGateway(logger: logger)
            let database: @Sendable () throws -> any Database = { try databases.gatewayDatabase(logger: logger) }
            let directory = CachedGatewayDirectory.gatewayRecords(in: database)  // what `gateway apply` records
            let dispatcher = GatewayDispatcher(
                configuration: GatewayConfiguration(secrets: ["s3cret-from-the-environment"]),
                store: FluentConnectionStore(databases: databases, logger: logger), gateways: directory,
                poster: ManagementClient(httpClient: .shared, credentials: CredentialProviderChain.default()), logger: logger)
            _ = try dispatcher.register(ChatController())  // the routes `gateway plan` plans
            let result = try await body(dispatcher, directory, database)
            await databases.shutdownAsync()
            return result
        } catch {
            await databases.shutdownAsync()
            throw error
        }
    }
}

struct AppCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app",
        subcommands: [
            GatewayCLI.Gateway<AppCommands>.self, GatewayCLI.Publish<AppCommands>.self, GatewayCLI.Sessions<AppCommands>.self,
            GatewayCLI.Channels<AppCommands>.self, GatewayCLI.Cleanup<AppCommands>.self,
        ])
}
