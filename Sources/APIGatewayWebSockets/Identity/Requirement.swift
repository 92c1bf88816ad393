/// A permission, in the app's own names: an open set, compared by name.
///
/// ```swift
/// extension Permission { static let postInRooms = Permission("chat.post") }
/// ```
public struct Permission: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let name: String
    public init(_ name: String) { self.name = name }
    public init(stringLiteral value: String) { self.name = value }
    public var description: String { name }

    /// Staff members (Django's `is_staff`), as the app decides who they are.
    public static let staff = Permission("staff")
    /// Administrators (Django's `is_superuser`).
    public static let admin = Permission("admin")
}

/// Who may use a controller, a handler or a connect: checked against the connection's user
/// through the app's ``PermissionSource``. A refusal is 401 without a user, 403 without the
/// permission.
///
/// ```swift
/// handlers.on("announce", Announcement.self, requires: .any(.permission(.staff), .permission("chat.announce"))) { … }
/// ```
public struct Requirement: Sendable, Hashable, CustomStringConvertible {
    private indirect enum Kind: Sendable, Hashable {
        case authenticated
        case permission(Permission)
        case any([Requirement])
        case all([Requirement])
    }

    private let kind: Kind

    /// A logged-in user (a session with a user id).
    public static let authenticated = Requirement(kind: .authenticated)
    /// A user holding `permission`.
    public static func permission(_ permission: Permission) -> Requirement { Requirement(kind: .permission(permission)) }
    /// At least one of `requirements`.
    public static func any(_ requirements: Requirement...) -> Requirement { Requirement(kind: .any(requirements)) }
    /// Every one of `requirements`.
    public static func all(_ requirements: Requirement...) -> Requirement { Requirement(kind: .all(requirements)) }
    /// At least one of `requirements`; none met by nobody.
    public static func any(_ requirements: [Requirement]) -> Requirement { Requirement(kind: .any(requirements)) }
    /// Every one of `requirements`.
    public static func all(_ requirements: [Requirement]) -> Requirement { Requirement(kind: .all(requirements)) }

    public var description: String {
        switch kind {
        case .authenticated: "authenticated"
        case .permission(let permission): "permission \(permission)"
        case .any(let requirements): "any of (" + requirements.map(\.description).joined(separator: ", ") + ")"
        case .all(let requirements): "all of (" + requirements.map(\.description).joined(separator: ", ") + ")"
        }
    }

    /// Whether `userID` meets the requirement; permissions are asked of `source` (none: no
    /// permission is held).
    public func isMet(by userID: String?, source: (any PermissionSource)?) async throws -> Bool {
        guard let userID else { return false }
        switch kind {
        case .authenticated:
            return true
        case .permission(let permission):
            guard let source else { return false }
            return try await source.user(userID, has: permission)
        case .any(let requirements):
            for requirement in requirements where try await requirement.isMet(by: userID, source: source) { return true }
            return false
        case .all(let requirements):
            for requirement in requirements where !(try await requirement.isMet(by: userID, source: source)) { return false }
            return true
        }
    }

    /// Refuses `userID` unless it meets the requirement: 401 without a user, 403 without the
    /// permission.
    func check(_ userID: String?, source: (any PermissionSource)?, what: String) async throws {
        guard let userID else { throw Refusal.loginRequired(what) }
        guard try await isMet(by: userID, source: source) else { throw Refusal.permissionDenied(what, userID: userID, requirement: self) }
    }
}

/// The app's answer to "does this user hold this permission", over its own user model.
public protocol PermissionSource: Sendable {
    func user(_ userID: String, has permission: Permission) async throws -> Bool
}
