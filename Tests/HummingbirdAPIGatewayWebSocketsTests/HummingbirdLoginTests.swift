import APIGatewayWebSockets
import APIGatewayWebSocketsSQL
import FluentKit
import FluentSQLiteDriver
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAPIGatewayWebSockets
import HummingbirdAuth
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import PeerSupport
import SQLKit
import ServiceLifecycle
import Synchronization
import Testing

/// A Hummingbird app's login, as hummingbird-auth does it (`SessionMiddleware` and
/// `SessionAuthenticator`), with its sessions in the framework's table through `SQLPersistDriver`:
/// it reaches `$connect` and the token endpoint as a Vapor app's login does, over real HTTP.
@Suite struct HummingbirdLoginTests {
    struct User: Sendable { let name: String }
    typealias Context = BasicSessionRequestContext<String, User>

    /// Only a logged-in user connects.
    struct Members: WebSocketController {
        let routeKey = RouteKey.default
        let connectRequirement: Requirement? = .authenticated
        func handlers(_ handlers: inout HandlerRegistry) {}
    }

    struct App {
        let application: Application<RouterResponder<Context>>
        let store: FluentConnectionStore
        let webSessions: WebSessionStore
        let databases: Databases
    }

    static let api: APIID = "hblogin1"

    func makeApp(file: String) async throws -> App {
        let logger = Logger(label: "hummingbird-login")
        let databases = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)
        databases.use(.sqlite(.file(file)), as: .sqlite)
        try await databases.migrateGateway(logger: logger)
        let store = FluentConnectionStore(databases: databases, logger: logger)
        let webSessions = WebSessionStore(store: store)
        let sessions = SessionMiddleware<Context>(storage: SQLPersistDriver(store: webSessions))
        let dispatcher = GatewayDispatcher(
            configuration: GatewayConfiguration(secrets: ["s3cret"]), store: store,
            gateways: CachedGatewayDirectory([GatewayRecord(apiID: Self.api, stage: "dev", region: "us-east-1")]),
            poster: LoggingPoster(logger: logger))
        let gateway = HummingbirdWebSocketGateway<Context>(
            dispatcher: dispatcher,
            connectMiddleware: [sessions, SessionAuthenticator(context: Context.self) { (name: String, _) in User(name: name) }]
        ) { _, context in context.identity.map { AuthenticatedUser(id: $0.name) } }
        let router = Router(context: Context.self)
        router.group("login").add(middleware: sessions).post { request, context -> HTTPResponse.Status in
            guard let name = request.uri.queryParameters["name"].map(String.init) else { return .badRequest }
            context.sessions.createSession(name, expiresIn: .seconds(600))
            return .ok
        }
        try gateway.register(Members(), on: router)
        try gateway.serveConnectionTokens(on: router)
        try gateway.serveClientScript(on: router)
        return App(application: Application(router: router), store: store, webSessions: webSessions, databases: databases)
    }

    func connect(_ id: String, query: String = "", cookie: String? = nil) -> (String, HTTPFields) {
        var headers: HTTPFields = [
            .connectionID: id, .gatewaySecret: "s3cret", .apiGatewayAPIID: Self.api.rawValue,
        ]
        if let cookie { headers[.cookie] = cookie }
        return ("/ws/connect" + query, headers)
    }

    @Test func aHummingbirdLoginReachesConnectAndTheTokenEndpoint() async throws {
        let file = TemporaryDatabase()
        defer { file.cleanUp() }
        let app = try await makeApp(file: file.path)
        try await app.application.test(.live) { client in
            let anonymous = try await client.execute(uri: "/ws/token", method: .post)
            #expect(anonymous.status == .unauthorized && String(buffer: anonymous.body) == #"{"message":"Not logged in"}"#)
            let (path, headers) = connect("anon-one=")
            #expect(try await client.execute(uri: path, method: .post, headers: headers).status == .unauthorized, "no login, no connect")

            let login = try await client.execute(uri: "/login?name=ada", method: .post)
            let cookie = try #require(login.headers[.setCookie]?.split(separator: ";").first.map(String.init), "\(login.headers)")
            #expect(try await app.webSessions.count() == 1, "the session is in the framework's table")
            let raw = try #require(cookie.split(separator: "=", maxSplits: 1).last.map(String.init))
            let sql = try app.store.sqlDatabase
            let stored = try await sql.raw("SELECT key_hash FROM apigw_web_sessions").all().map { try $0.decode(column: "key_hash", as: String.self) }
            #expect(stored.count == 1 && !stored[0].contains(raw), "the table holds a digest, not the session id")

            let (cookiePath, cookieHeaders) = connect("ada-cookie=", cookie: cookie)
            #expect(try await client.execute(uri: cookiePath, method: .post, headers: cookieHeaders).status == .ok)
            #expect(try await app.store.session(ConnectionID("ada-cookie="))?.userID == "ada", "the login reached $connect")

            let issued = try await client.execute(uri: "/ws/token", method: .post, headers: [.cookie: cookie])
            #expect(issued.status == .ok && issued.headers[.cacheControl] == "no-store")
            let token = try #require(
                (try JSONSerialization.jsonObject(with: Data(buffer: issued.body)) as? [String: Any])?["token"] as? String)
            // The app's own page: its Origin is the request's host (no allowed origins are set).
            let sameSite = try await client.execute(
                uri: "/ws/token", method: .post, headers: [.cookie: cookie, .origin: "http://localhost:\(client.port ?? 0)"])
            #expect(sameSite.status == .ok, "a page of the app's own origin gets a token: \(String(buffer: sameSite.body))")
            let crossSite = try await client.execute(uri: "/ws/token", method: .post, headers: [.cookie: cookie, .origin: "https://evil.example"])
            #expect(crossSite.status == .forbidden && String(buffer: crossSite.body) == #"{"message":"Origin not allowed"}"#)

            let (tokenPath, tokenHeaders) = connect("ada-token=", query: "?ws_token=\(token)")
            #expect(try await client.execute(uri: tokenPath, method: .post, headers: tokenHeaders).status == .ok)
            #expect(try await app.store.session(ConnectionID("ada-token="))?.userID == "ada", "the token connects as its user")
            #expect(try await client.execute(uri: tokenPath, method: .post, headers: tokenHeaders).status == .unauthorized, "once")

            let script = try await client.execute(uri: "/apigw-websockets.js", method: .get)
            #expect(script.status == .ok && script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(String(buffer: script.body).contains("export class GatewaySocket"))
        }
        await app.databases.shutdownAsync()
    }

    /// The door's services run in the app's `ServiceGroup`: the cleanup runs the app's steps on
    /// its interval, and the group (the persist driver in it too) ends on a graceful shutdown.
    @Test func theDoorsServicesRunInTheAppsGroup() async throws {
        let file = TemporaryDatabase()
        defer { file.cleanUp() }
        let app = try await makeApp(file: file.path)
        let runs = Mutex(0)
        let gateway = HummingbirdWebSocketGateway<Context>(
            dispatcher: GatewayDispatcher(
                configuration: GatewayConfiguration(secrets: ["s3cret"]), store: app.store, gateways: CachedGatewayDirectory([]),
                poster: LoggingPoster(logger: Logger(label: "services"))))
        let counting = Cleanup.Step("counted") { _ in runs.withLock { $0 += 1 }; return 0 }
        let logger = Logger(label: "services")
        let services = gateway.services(cleanupInterval: .milliseconds(20), cleanupSteps: [counting, app.webSessions.cleanupStep], logger: logger)
        #expect(services.count == 1, "no streams, so no delivery worker: the cleanup alone")
        let group = ServiceGroup(services: services + [SQLPersistDriver(store: app.webSessions)], logger: logger)
        let running = Task { try await group.run() }
        #expect(await eventually(timeout: .seconds(20)) { runs.withLock { $0 } >= 2 }, "the cleanup ran on its interval")
        await group.triggerGracefulShutdown()
        try await running.value
        await app.databases.shutdownAsync()
    }

    /// The persist driver keeps hummingbird-auth's contract: `create` refuses a live key, `set`
    /// without an expiry keeps the one it had, an expired value reads as nothing and may be
    /// created again, and the cleanup's step sweeps it.
    @Test func thePersistDriverKeepsHummingbirdsContract() async throws {
        let file = TemporaryDatabase()
        defer { file.cleanUp() }
        let app = try await makeApp(file: file.path)
        let driver = SQLPersistDriver(store: app.webSessions)
        try await driver.create(key: "k", value: ["n": 1], expires: .seconds(600))
        await #expect(throws: PersistError.duplicate) { try await driver.create(key: "k", value: ["n": 2], expires: .seconds(600)) }
        try await driver.set(key: "k", value: ["n": 3], expires: nil)
        let read = try #require(try await driver.getWithTTL(key: "k", as: [String: Int].self))
        #expect(read.object == ["n": 3] && (read.ttl ?? .zero) > .seconds(590), "set without expiry keeps the expiry: \(String(describing: read.ttl))")
        await #expect(throws: PersistError.invalidConversion, "another type is refused") { try await driver.get(key: "k", as: String.self) }
        try await driver.set(key: "gone", value: "x", expires: .milliseconds(1))
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await driver.get(key: "gone", as: String.self) == nil)
        try await driver.create(key: "gone", value: "again", expires: .seconds(600))
        #expect(try await driver.get(key: "gone", as: String.self) == "again", "an expired key may be created again")
        try await driver.set(key: "old", value: "x", expires: .milliseconds(1))
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await app.webSessions.cleanupStep.run(Date()) == 1)
        try await driver.remove(key: "k")
        #expect(try await driver.get(key: "k", as: [String: Int].self) == nil)
        await app.databases.shutdownAsync()
    }
}
