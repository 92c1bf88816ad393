public import APIGatewayWebSockets
public import FluentKit
import Foundation

// The chat's accounts, shared by its Vapor and Hummingbird examples: the table, the demo accounts,
// and who holds what. Each example hashes passwords with its framework's bcrypt and logs users in
// with its framework's sessions.

/// A chat account: a name, a password, and whether it is staff or an administrator.
public final class ChatUser: Model, @unchecked Sendable {  // Fluent models are reference types.
    public static let schema = "chat_users"

    @ID(key: .id) public var id: UUID?
    @Field(key: "name") public var name: String
    @Field(key: "password_hash") public var passwordHash: String
    @Field(key: "is_staff") public var isStaff: Bool
    @Field(key: "is_admin") public var isAdmin: Bool
    @Field(key: "is_active") public var isActive: Bool

    public init() {}

    public init(name: String, passwordHash: String, isStaff: Bool = false, isAdmin: Bool = false) {
        self.name = name
        self.passwordHash = passwordHash
        self.isStaff = isStaff
        self.isAdmin = isAdmin
        self.isActive = true
    }

    /// What a login holds while it is unchanged: the password, the active flag and the roles, so
    /// a password change, a deactivation or a demotion ends the user's connections.
    public var loginState: String { "\(passwordHash)|\(isActive)|\(isStaff)|\(isAdmin)" }

    /// The user's name, once it is unique among accounts, is the id connections carry.
    public static func named(_ name: String, on database: any Database) async throws -> ChatUser? {
        try await ChatUser.query(on: database).filter(\.$name == name).first()
    }
}

public struct CreateChatUsers: AsyncMigration {
    public init() {}

    /// The name it had in the Vapor example, where it began: a chat database made before is not
    /// migrated again.
    public var name: String { "ChatApp.CreateChatUsers" }

    public func prepare(on database: any Database) async throws {
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

    public func revert(on database: any Database) async throws {
        try await database.schema(ChatUser.schema).delete()
    }
}

/// The demo accounts seeded at start: `ada` and `bob`, and `admin` (staff and administrator),
/// all with one password.
public enum ChatDemo {
    public static let users = ["ada", "bob", "admin"]
    /// The password when `CHAT_DEMO_PASSWORD` is not set.
    public static let defaultPassword = "chat-demo-password"

    /// The bcrypt cost of the demo accounts' passwords.
    public static let cost = 8

    /// Creates the accounts that do not exist yet, their password hashed by `hash` (the web
    /// framework's bcrypt, at ``cost``); an existing account keeps its password.
    public static func seed(password: String, hash: (String) throws -> String, on database: any Database) async throws {
        for name in users where try await ChatUser.named(name, on: database) == nil {
            let hash = try hash(password)
            try await ChatUser(name: name, passwordHash: hash, isStaff: name == "admin", isAdmin: name == "admin").create(on: database)
        }
    }
}

/// Who holds what: staff and administrators from the account's flags (an administrator is
/// staff too); nobody inactive holds anything.
public struct ChatPermissions: PermissionSource {
    let database: @Sendable () throws -> any Database

    public init(database: @escaping @Sendable () throws -> any Database) { self.database = database }

    public func user(_ userID: String, has permission: Permission) async throws -> Bool {
        guard let user = try await ChatUser.named(userID, on: try database()), user.isActive else { return false }
        switch permission {
        case .admin: return user.isAdmin
        case .staff: return user.isStaff || user.isAdmin
        default: return user.isAdmin
        }
    }
}

/// A login holds while the account is active and its password and roles unchanged.
public struct ChatAuthState: AuthStateSource {
    let database: @Sendable () throws -> any Database

    public init(database: @escaping @Sendable () throws -> any Database) { self.database = database }

    /// Where the login keeps the fingerprint of the state it was made with.
    public static let sessionKey = "apigw.authState"

    public func authState(ofUser userID: String) async throws -> String? {
        guard let user = try await ChatUser.named(userID, on: try database()), user.isActive else { return nil }
        return user.loginState
    }
}
