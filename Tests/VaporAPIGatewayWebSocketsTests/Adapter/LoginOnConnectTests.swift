import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Foundation
import HTTPTypes
import NIOCore
import PeerSupport
import Synchronization
import Testing
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

/// `$connect` runs through the app's own sessions and authenticator (API Gateway forwards the
/// browser's cookie on it), and the token endpoint issues one-time tokens to a logged-in user.
@Suite struct LoginOnConnectTests {
    struct DemoUser: SessionAuthenticatable {
        let name: String
        var sessionID: String { name }
    }

    struct DemoSessions: AsyncSessionAuthenticator {
        typealias User = DemoUser
        func authenticate(sessionID: String, for request: Request) async throws { request.auth.login(DemoUser(name: sessionID)) }
    }

    /// An app with memory sessions, `POST /login?name=…`, the chat-shaped controller, the token
    /// endpoint; runs `body` with it and a fake API Gateway in front.
    func withLoginApp(
        configuration: GatewayConfiguration = GatewayConfiguration(secrets: ["s3cret"]),
        sessions: Application.Sessions.Provider = .memory,
        authState: (any AuthStateSource)? = nil,
        _ body: (Application, FakeAPIGateway, WebSocketGateway) async throws -> Void
    ) async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        try await withSQLiteApp(path: database.path) { app in
            app.sessions.use(sessions)
            let login: [any Middleware] = [app.sessions.middleware, DemoSessions()]
            app.grouped(login).post("login") { request async throws -> HTTPStatus in
                guard let name = request.query[String.self, at: "name"] else { return .badRequest }
                request.auth.login(DemoUser(name: name))
                request.session.authenticate(DemoUser(name: name))
                // The login keeps the state it was made with, as the chat example does.
                if let state = try await authState?.authState(ofUser: name) { request.session.data["state"] = ConnectionTokens.hash(state) }
                return .ok
            }
            let authentication = ConnectAuthentication(middleware: login) { request in
                request.auth.get(DemoUser.self).map {
                    AuthenticatedUser(id: $0.name, webSessionID: request.session.id?.string, authStateHash: request.session.data["state"])
                }
            }
            let gateway = WebSocketGateway(
                app: app, configuration: configuration, poster: RecordingPoster(), authentication: authentication, authState: authState)
            // Logging out closes the login's connections, then ends the web session.
            app.grouped(login).post("logout") { request async throws -> HTTPStatus in
                if let session = request.session.id?.string { try await gateway.dispatcher.closeConnections(ofWebSession: session) }
                request.session.destroy()
                return .ok
            }
            try gateway.register(Anyone())
            try gateway.serveConnectionTokens()
            let apiID = APIID("loginapi1")
            try await gateway.registerGateway(GatewayRecord(apiID: apiID, stage: "dev", region: "us-east-1"))
            let fake = try FakeAPIGateway(app: app, apiID: apiID, stage: "dev", secret: configuration.secrets.first)
            try await body(app, fake, gateway)
        }
    }

    struct Anyone: WebSocketController {
        let routeKey = RouteKey.default
        func handlers(_ handlers: inout HandlerRegistry) { handlers.onRaw("default") { _, _ in } }
    }

    /// A request to the app itself, as a browser would send it.
    func browser(_ app: Application, _ path: String, headers: [(String, String)] = []) async throws -> GatewayResponse {
        var fields = HTTPFields()
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        let (route, query) = path.split(separator: "?", maxSplits: 1).map(String.init).splitFirst
        return try await InProcessTransport(app: app).send(GatewayRequest(method: .post, path: route, query: query, headerFields: fields))
    }

    func cookie(_ response: GatewayResponse) throws -> String {
        let setCookie = try #require(response.headerFields[.setCookie])
        return String(setCookie.split(separator: ";")[0])
    }

    @Test func theLoginCookieOnConnectNamesTheUser() async throws {
        try await withLoginApp { app, fake, gateway in
            let login = try await browser(app, "/login?name=ada")
            #expect(login.status == .ok)
            let connection = try await fake.connect(headers: [.cookie: try cookie(login)])
            #expect(connection.isAccepted)
            #expect(try await gateway.dispatcher.store.session(connection.id)?.userID == "ada")
            // Without the cookie, nobody.
            let anonymous = try await fake.connect()
            #expect(try await gateway.dispatcher.store.session(anonymous.id)?.userID == nil)
        }
    }

    @Test func loggingOutClosesTheLoginsConnections() async throws {
        try await withLoginApp { app, fake, gateway in
            let cookie = try cookie(try await browser(app, "/login?name=ada"))
            let byCookie = try await fake.connect(headers: [.cookie: cookie])
            let issued = try await browser(app, "/ws/token", headers: [("Cookie", cookie)])
            struct Issued: Decodable { let token: String }
            let token = try JSONDecoder().decode(Issued.self, from: Data(buffer: issued.body)).token
            let byToken = try await fake.connect(query: ["ws_token": token])
            let other = try await fake.connect(headers: [.cookie: try self.cookie(try await browser(app, "/login?name=bob"))])
            let logout = try await browser(app, "/logout", headers: [("Cookie", cookie)])
            #expect(logout.status == .ok, "\(logout.status) \(String(buffer: logout.body))")
            let poster = try #require(gateway.dispatcher.messenger.poster as? RecordingPoster)
            #expect(Set(poster.closed) == [byCookie.id, byToken.id], "the cookie's and the token's connections, not bob's")
            #expect(try await gateway.dispatcher.store.session(other.id)?.connected == true)
        }
    }

    @Test func aLoggedInUserGetsATokenThatConnectsOnce() async throws {
        try await withLoginApp { app, fake, gateway in
            let cookie = try cookie(try await browser(app, "/login?name=bob"))
            let answer = try await browser(app, "/ws/token", headers: [("Cookie", cookie), ("Sec-Fetch-Site", "same-origin")])
            #expect(answer.status == .ok)
            struct Issued: Decodable { let token: String; let expiresAt: Date }
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let issued = try decoder.decode(Issued.self, from: Data(buffer: answer.body))
            #expect(issued.expiresAt > Date() && issued.expiresAt < Date().addingTimeInterval(61))
            let connection = try await fake.connect(query: ["ws_token": issued.token])
            #expect(try await gateway.dispatcher.store.session(connection.id)?.userID == "bob")
            #expect(try await fake.connect(query: ["ws_token": issued.token]).connectResponse.status == .unauthorized)
        }
    }

    @Test func theTokenEndpointRefusesStrangersAndOtherSites() async throws {
        var configuration = GatewayConfiguration(secrets: ["s3cret"])
        configuration.allowedOrigins = ["chat.example.com"]
        try await withLoginApp(configuration: configuration) { app, _, _ in
            #expect(try await browser(app, "/ws/token").status == .unauthorized, "no login")
            let cookie = try cookie(try await browser(app, "/login?name=ada"))
            let crossSite = try await browser(app, "/ws/token", headers: [("Cookie", cookie), ("Sec-Fetch-Site", "cross-site")])
            #expect(crossSite.status == .forbidden)
            let foreign = try await browser(app, "/ws/token", headers: [("Cookie", cookie), ("Origin", "https://evil.example.net")])
            #expect(foreign.status == .forbidden)
            let own = try await browser(app, "/ws/token", headers: [("Cookie", cookie), ("Origin", "https://chat.example.com")])
            #expect(own.status == .ok)
            // Ten a minute per user, then 429.
            for _ in 0..<9 { _ = try await browser(app, "/ws/token", headers: [("Cookie", cookie)]) }
            #expect(try await browser(app, "/ws/token", headers: [("Cookie", cookie)]).status == .tooManyRequests)
        }
    }

    // Browsers send Origin on every WebSocket handshake: a connect whose login is the cookie and
    // that has no Origin is refused, one with neither (a token client, a tool) is not.
    @Test func aCookieLoginWithoutAnOriginIsRefused() async throws {
        var configuration = GatewayConfiguration(secrets: ["s3cret"])
        configuration.allowedOrigins = ["chat.example.com"]
        try await withLoginApp(configuration: configuration) { app, fake, _ in
            let cookie = try cookie(try await browser(app, "/login?name=ada"))
            #expect(try await fake.connect(headers: [.cookie: cookie]).connectResponse.status == .forbidden)
            #expect(try await fake.connect(headers: [.cookie: cookie, .origin: "https://chat.example.com"]).isAccepted)
            #expect(try await fake.connect().isAccepted, "no cookie, no Origin: not a browser")
        }
    }
}

/// Web sessions whose database is away: every read fails with the driver's words.
struct UnreachableSessions: AsyncSessionDriver {
    struct Failure: Error, CustomStringConvertible { let description = "connection refused: db.internal.example:5432 (driver detail)" }
    func createSession(_ data: SessionData, for request: Request) async throws -> SessionID { throw Failure() }
    func readSession(_ sessionID: SessionID, for request: Request) async throws -> SessionData? { throw Failure() }
    func updateSession(_ sessionID: SessionID, to data: SessionData, for request: Request) async throws -> SessionID { throw Failure() }
    func deleteSession(_ sessionID: SessionID, for request: Request) async throws { throw Failure() }
}

/// Users whose login state can change under them.
final class ChangingAccounts: AuthStateSource {
    let states = Mutex<[String: String]>(["ada": "password-1", "bob": "password-1"])
    func authState(ofUser userID: String) async throws -> String? { states.withLock { $0[userID] } }
}

extension LoginOnConnectTests {
    // With the web sessions' database away, a cookie `$connect` and `POST /ws/token` answered 500
    // (the session middleware's error escaped the dispatcher), the token endpoint with the
    // driver's error text.
    @Test func anUnreadableLoginIsAFast503WithoutTheDriversWords() async throws {
        try await withLoginApp(sessions: .init { app in app.sessions.use { _ in UnreachableSessions() } }) { app, fake, _ in
            let connect = try await fake.connect(headers: [.cookie: "vapor-session=some-session"])
            #expect(connect.connectResponse.status == .serviceUnavailable, "\(connect.connectResponse.status)")
            let token = try await browser(app, "/ws/token", headers: [("Cookie", "vapor-session=some-session")])
            #expect(token.status == .serviceUnavailable)
            #expect(String(buffer: token.body) == #"{"message":"Service unavailable"}"#, "\(String(buffer: token.body))")
        }
    }

    // `POST /ws/token` asked only "logged in?": a web session from before a password change kept
    // minting tokens.
    @Test func theTokenEndpointRefusesALoginFromBeforeAPasswordChange() async throws {
        let accounts = ChangingAccounts()
        var configuration = GatewayConfiguration(secrets: ["s3cret"])
        configuration.authStateLifetime = .zero
        try await withLoginApp(configuration: configuration, authState: accounts) { app, _, _ in
            let cookie = try cookie(try await browser(app, "/login?name=ada"))
            #expect(try await browser(app, "/ws/token", headers: [("Cookie", cookie)]).status == .ok)
            accounts.states.withLock { $0["ada"] = "password-2" }
            let refused = try await browser(app, "/ws/token", headers: [("Cookie", cookie)])
            #expect(refused.status == .unauthorized, "\(refused.status)")
            accounts.states.withLock { $0["bob"] = nil }  // deactivated
            let bob = try self.cookie(try await browser(app, "/login?name=bob"))
            #expect(try await browser(app, "/ws/token", headers: [("Cookie", bob)]).status == .unauthorized)
        }
    }
}

extension Array where Element == String {
    fileprivate var splitFirst: (String, String?) { (self[0], count > 1 ? self[1] : nil) }
}
