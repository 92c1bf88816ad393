import APIGatewayWebSockets
import ChatCore
import Fluent
import Foundation
import Vapor
import VaporAPIGatewayWebSockets

// Vapor's session login of the shared account type.
extension ChatUser: ModelSessionAuthenticatable {}

/// Logs in the web session's user while the login holds: the account is active and its password
/// and roles are the ones the login was made with (the session keeps their fingerprint), so a
/// password change ends every web session made before it, on every page, not only the sockets.
struct ChatSessionAuthenticator: AsyncSessionAuthenticator {
    typealias User = ChatUser

    func authenticate(sessionID: UUID, for request: Request) async throws {
        guard let user = try await ChatUser.find(sessionID, on: request.db), user.isActive,
            let kept = request.session.data[ChatAuthState.sessionKey], kept == ChatAuthState.fingerprint(user.loginState)
        else { return }
        request.auth.login(user)
    }
}

extension LoginThrottle {
    /// The example's limits: `loginAttempts` per name and three times as many per address, in 5 minutes.
    init(store: FluentConnectionStore, settings: ChatSettings) throws {
        self.init(
            identity: store, perName: .init(settings.loginAttempts, per: .seconds(300)),
            perAddress: .init(settings.loginAttempts * 3, per: .seconds(300)))
    }
}

/// `POST /login` (form fields `name`, `password`) and `POST /logout`, on the app's session
/// cookie; both refused 403 from another site's page. Logins are throttled per name and per
/// address (429), and a name that does not exist costs the same bcrypt work as one that does, so
/// the answer's time does not tell them apart.
struct ChatLoginRoutes {
    let login: [any Middleware]
    let gateway: WebSocketGateway
    let configuration: GatewayConfiguration
    let throttle: LoginThrottle

    /// A bcrypt hash of nothing anyone knows, at the demo accounts' cost: what an unknown name is
    /// checked against.
    static let decoy: String = {
        var generator = SystemRandomNumberGenerator()
        return (try? Bcrypt.hash(String(generator.next()), cost: ChatDemo.cost)) ?? ""
    }()

    struct Credentials: Content {
        let name: String
        let password: String
    }

    struct LoggedIn: Content {
        let user: String
        let staff: Bool
        let admin: Bool
    }

    func register(on routes: any RoutesBuilder) {
        let browser = routes.grouped(login).grouped(SameOriginWrites(configuration: configuration))
        browser.post("login") { [gateway, throttle] request async throws -> LoggedIn in
            let credentials = try request.content.decode(Credentials.self)
            do {
                try await throttle.admit(
                    name: credentials.name, address: request.clientAddress(trustedProxies: configuration.trustedProxies))
            } catch let refusal as Refusal {
                throw Abort(.tooManyRequests, headers: ["Retry-After": "60"], reason: refusal.reason)
            }
            let user = try await ChatUser.named(credentials.name, on: request.db)
            // The same bcrypt work whether or not the name exists, off the event loop.
            let verified = try await request.password.async.verify(credentials.password, created: user?.passwordHash ?? Self.decoy)
            guard let user, user.isActive, verified else { throw Abort(.unauthorized, reason: "Wrong name or password") }
            // A fresh web session for the new login (no session fixation): the old login's
            // connections close, its record goes, and the session middleware creates one with a new id.
            if let old = request.session.id {
                try await gateway.dispatcher.closeConnections(ofWebSession: old.string)
                try await request.application.sessions.driver.deleteSession(old, for: request).get()
                request.session.id = nil
                request.session.data = SessionData()
            }
            request.session.authenticate(user)
            request.session.data[ChatAuthState.sessionKey] = ChatAuthState.fingerprint(user.loginState)
            request.auth.login(user)
            return LoggedIn(user: user.name, staff: user.isStaff || user.isAdmin, admin: user.isAdmin)
        }
        browser.post("logout") { [gateway] request async throws -> [String: Int] in
            var closed = 0
            if request.auth.has(ChatUser.self), let session = request.session.id?.string {
                closed = try await gateway.dispatcher.closeConnections(ofWebSession: session)
            }
            request.auth.logout(ChatUser.self)
            request.session.destroy()
            return ["closedConnections": closed]
        }
    }
}

extension Request {
    /// The address a browser's request came from: the peer, or, behind `trustedProxies` proxies
    /// that each append to `X-Forwarded-For`, the entry the first of them appended.
    func clientAddress(trustedProxies: Int) -> String? {
        if trustedProxies > 0, let forwarded = headers.first(name: .xForwardedFor) {
            let entries = forwarded.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let index = entries.count - trustedProxies
            if entries.indices.contains(index) { return entries[index] }
        }
        return remoteAddress?.ipAddress
    }
}
