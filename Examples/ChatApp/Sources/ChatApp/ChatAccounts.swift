import APIGatewayWebSockets
import Fluent
import Foundation
import Vapor
import VaporAPIGatewayWebSockets

/// A chat account: a name, a password, and whether it is staff or an administrator.
public final class ChatUser: Model, ModelSessionAuthenticatable, @unchecked Sendable {  // Fluent models are reference types.
    public static let schema = "chat_users"

    @ID(key: .id) public var id: UUID?
    @Field(key: "name") public var name: String
    @Field(key: "password_hash") public var passwordHash: String
    @Field(key: "is_staff") public var isStaff: Bool
    @Field(key: "is_admin") public var isAdmin: Bool
    @Field(key: "is_active") public var isActive: Bool

    public init() {}

    init(name: String, passwordHash: String, isStaff: Bool = false, isAdmin: Bool = false) {
        self.name = name
        self.passwordHash = passwordHash
        self.isStaff = isStaff
        self.isAdmin = isAdmin
        self.isActive = true
    }

    /// What a login holds while it is unchanged: the password, the active flag and the roles, so
    /// a password change, a deactivation or a demotion ends the user's connections.
    var loginState: String { "\(passwordHash)|\(isActive)|\(isStaff)|\(isAdmin)" }

    /// The user's name, once it is unique among accounts, is the id connections carry.
    static func named(_ name: String, on database: any Database) async throws -> ChatUser? {
        try await ChatUser.query(on: database).filter(\.$name == name).first()
    }
}

struct CreateChatUsers: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ChatUser.schema)
            .id()
            .field("name", .string, .required)
            .field("password_hash", .string, .required)
            .field("is_staff", .bool, .required)
            .field("is_admin", .bool, .required)
            .field("is_active", .bool, .required)
            .unique(on: "name")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ChatUser.schema).delete()
    }
}

/// The demo accounts seeded at start: `ada` and `bob`, and `admin` (staff and administrator),
/// all with one password.
public enum ChatDemo {
    public static let users = ["ada", "bob", "admin"]
    /// The password when `CHAT_DEMO_PASSWORD` is not set.
    public static let defaultPassword = "chat-demo-password"

    /// Creates the accounts that do not exist yet; an existing account keeps its password.
    /// The bcrypt cost of the demo accounts' passwords.
    static let cost = 8

    static func seed(password: String, on database: any Database) async throws {
        for name in users where try await ChatUser.named(name, on: database) == nil {
            let hash = try Bcrypt.hash(password, cost: cost)
            try await ChatUser(name: name, passwordHash: hash, isStaff: name == "admin", isAdmin: name == "admin").create(on: database)
        }
    }
}

/// Who holds what: staff and administrators from the account's flags (an administrator is
/// staff too); nobody inactive holds anything.
struct ChatPermissions: PermissionSource {
    let database: @Sendable () -> any Database

    func user(_ userID: String, has permission: Permission) async throws -> Bool {
        guard let user = try await ChatUser.named(userID, on: database()), user.isActive else { return false }
        switch permission {
        case .admin: return user.isAdmin
        case .staff: return user.isStaff || user.isAdmin
        default: return user.isAdmin
        }
    }
}

/// A login holds while the account is active and its password and roles unchanged.
struct ChatAuthState: AuthStateSource {
    let database: @Sendable () -> any Database

    /// Where the login keeps the fingerprint of the state it was made with.
    static let sessionKey = "apigw.authState"

    func authState(ofUser userID: String) async throws -> String? {
        guard let user = try await ChatUser.named(userID, on: database()), user.isActive else { return nil }
        return user.loginState
    }
}

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
