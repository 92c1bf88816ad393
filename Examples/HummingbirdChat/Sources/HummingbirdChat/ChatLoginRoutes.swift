import APIGatewayWebSockets
import APIGatewayWebSocketsSQL
import ChatCore
import FluentKit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import HummingbirdBcrypt
import NIOPosix

/// `POST /login` (form fields `name`, `password`) and `POST /logout`, on the chat's session cookie,
/// as the Vapor example answers them: refused 403 from another site's page, throttled per name and
/// per address (429), and the same bcrypt work whether or not the name exists.
struct ChatLoginRoutes: Sendable {
    let dispatcher: GatewayDispatcher
    let store: FluentConnectionStore
    let webSessions: WebSessionStore
    let database: @Sendable () throws -> any Database

    /// A bcrypt hash of nothing anyone knows: what an unknown name is checked against.
    static let decoy = Bcrypt.hash(UUID().uuidString, cost: UInt8(ChatDemo.cost))

    struct LoggedIn: ResponseEncodable {
        let user: String
        let staff: Bool
        let admin: Bool
    }

    func register(on routes: RouterGroup<ChatContext>) {
        let configuration = dispatcher.configuration
        let throttle = LoginThrottle(
            identity: store, perName: .init(10, per: .seconds(300)), perAddress: .init(30, per: .seconds(300)))
        routes.post("login") { [dispatcher, database, webSessions] request, context -> Response in
            if let refused = Self.crossSite(request, configuration) { return refused }
            guard let form = try await Self.form(request) else { return .problem(.badRequest, "The form is not URL-encoded") }
            guard let name = form["name"], let password = form["password"] else {
                return .problem(.badRequest, "name and password are required")
            }
            do {
                try await throttle.admit(name: name, address: context.remoteAddress?.ipAddress)
            } catch let refusal as Refusal {
                var response = Response.problem(.tooManyRequests, refusal.reason)
                response.headers[.retryAfter] = "60"
                return response
            }
            let user = try await ChatUser.named(name, on: try database())
            // The same bcrypt work whether or not the name exists, off the event loop.
            let verified = try await NIOThreadPool.singleton.runIfActive {
                Bcrypt.verify(password, hash: user?.passwordHash ?? Self.decoy)
            }
            guard let user, user.isActive, verified else { return .problem(.unauthorized, "Wrong name or password") }
            // A fresh login (no session fixation): the old login's connections close and its
            // session goes, and the session middleware makes one with a new id.
            if let old = context.identity { _ = try await dispatcher.closeConnections(ofWebSession: old.login.loginID) }
            if let cookie = request.cookies[HummingbirdChat.sessionCookie] { try await webSessions.delete("hbs." + cookie.value) }
            context.sessions.createSession(
                ChatLogin(user: user.name, authState: ChatAuthState.fingerprint(user.loginState), loginID: UUID().uuidString),
                expiresIn: .seconds(12 * 3600))
            return try LoggedIn(user: user.name, staff: user.isStaff || user.isAdmin, admin: user.isAdmin).response(from: request, context: context)
        }
        routes.post("logout") { [dispatcher] request, context -> Response in
            if let refused = Self.crossSite(request, configuration) { return refused }
            var closed = 0
            if let identity = context.identity { closed = try await dispatcher.closeConnections(ofWebSession: identity.login.loginID) }
            context.sessions.clearSession()
            return try ["closedConnections": closed].response(from: request, context: context)
        }
    }

    /// 403 for another site's page (``CrossSiteWrite``), as the Vapor example's forms answer.
    static func crossSite(_ request: Request, _ configuration: GatewayConfiguration) -> Response? {
        CrossSiteWrite.of(
            secFetchSite: request.headers[HTTPField.Name("Sec-Fetch-Site")!], origin: request.headers[.origin],
            host: request.headers[HTTPField.Name("Host")!] ?? request.head.authority, configuration: configuration
        ).map { .problem(.forbidden, $0.reason) }
    }

    /// The fields of a URL-encoded form, at most 16 KB of it; `nil` when it is not one (a `%`
    /// that starts no escape, say), which the route answers 400.
    static func form(_ request: Request) async throws -> [String: String]? {
        var fields: [String: String] = [:]
        for pair in String(buffer: try await request.body.collect(upTo: 16_384)).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ part: Substring) -> String? { part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = decoded(parts[0]), let value = parts.count > 1 ? decoded(parts[1]) : "" else { return nil }
            fields[name] = value
        }
        return fields
    }
}

extension Response {
    /// `{"message": reason}` with `status`, as the framework's own endpoints refuse.
    static func problem(_ status: HTTPResponse.Status, _ reason: String) -> Response {
        Response(GatewayResponse.problem(status, reason))
    }
}
