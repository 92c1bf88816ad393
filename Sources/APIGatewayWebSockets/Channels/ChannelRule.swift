import Foundation

/// Who may join a channel, as a rule stored in the database (so every instance enforces the same
/// rules without a deploy).
///
/// ```swift
/// try await store.saveChannelRule(ChannelRule(channel: "staff", access: .staff))
/// try await store.saveChannelRule(ChannelRule(channel: "ops",
///     access: .permissionSets([["ops.read", "ops.write"], ["admin"]])))
/// ```
public struct ChannelRule: Sendable, Hashable {
    public var channel: ChannelName
    public var access: ChannelAccess

    public init(channel: ChannelName, access: ChannelAccess) {
        self.channel = channel
        self.access = access
    }
}

/// What a ``ChannelRule`` asks of a joining connection's user.
public struct ChannelAccess: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case everyone, authenticated, staff, admin
        case permissionSets([Set<Permission>])
    }

    let kind: Kind

    /// Any connection, with a user or without.
    public static let everyone = ChannelAccess(kind: .everyone)
    /// A connection with a user.
    public static let authenticated = ChannelAccess(kind: .authenticated)
    /// A user holding ``Permission/staff`` or ``Permission/admin`` (an administrator is staff,
    /// as Django's superusers are).
    public static let staff = ChannelAccess(kind: .staff)
    /// A user holding ``Permission/admin``.
    public static let admin = ChannelAccess(kind: .admin)
    /// A user holding every permission of at least one set: AND within a set, OR across sets.
    /// No set, or only empty sets, admits nobody.
    public static func permissionSets(_ sets: [Set<Permission>]) -> ChannelAccess { ChannelAccess(kind: .permissionSets(sets)) }

    /// The requirement the rule stands for; `nil` for ``everyone``.
    public var requirement: Requirement? {
        switch kind {
        case .everyone: nil
        case .authenticated: .authenticated
        case .staff: .any(.permission(.staff), .permission(.admin))
        case .admin: .permission(.admin)
        case .permissionSets(let sets):
            .any(sets.filter { !$0.isEmpty }.map { set in .all(set.sorted { $0.name < $1.name }.map(Requirement.permission)) })
        }
    }

    public var description: String {
        switch kind {
        case .everyone: "everyone"
        case .authenticated: "authenticated"
        case .staff: "staff"
        case .admin: "admin"
        case .permissionSets(let sets):
            sets.map { $0.map(\.name).sorted().joined(separator: " + ") }.joined(separator: " | ")
        }
    }
}

extension ChannelAccess {
    /// The stored form: a kind (`everyone`, `authenticated`, `staff`, `admin`, `permissions`) and,
    /// for permission sets, the sets as a JSON array of arrays of names.
    package var stored: (kind: String, permissionSets: String?) {
        switch kind {
        case .everyone: ("everyone", nil)
        case .authenticated: ("authenticated", nil)
        case .staff: ("staff", nil)
        case .admin: ("admin", nil)
        case .permissionSets(let sets):
            (
                "permissions",
                String(decoding: (try? JSONEncoder().encode(sets.map { $0.map(\.name).sorted() })) ?? Data("[]".utf8), as: UTF8.self)
            )
        }
    }

    /// Reads the stored form back.
    /// - Throws: ``ChannelRuleError`` for a kind it does not know or sets that are not JSON.
    package init(storedKind: String, permissionSets: String?) throws {
        switch storedKind {
        case "everyone": self = .everyone
        case "authenticated": self = .authenticated
        case "staff": self = .staff
        case "admin": self = .admin
        case "permissions":
            guard let json = permissionSets?.data(using: .utf8), let names = try? JSONDecoder().decode([[String]].self, from: json) else {
                throw ChannelRuleError.unreadable("permission sets '\(permissionSets?.prefix(80) ?? "")' are not a JSON array of arrays")
            }
            self = .permissionSets(names.map { Set($0.map { Permission($0) }) })
        default:
            throw ChannelRuleError.unreadable("unknown access kind '\(storedKind.prefix(40))'")
        }
    }
}

extension ChannelAccess {
    /// An access as a person writes it (a command option, an admin form): `everyone`,
    /// `authenticated`, `staff`, `admin`, or `permissions` with `sets` written `a+b, c` (`+`
    /// within a set, `,` between sets).
    /// - Throws: ``ChannelRuleError`` for another kind, or sets with an empty set or name.
    public init(written kind: String, sets: String?) throws {
        switch kind {
        case "everyone": self = .everyone
        case "authenticated": self = .authenticated
        case "staff": self = .staff
        case "admin": self = .admin
        case "permissions":
            let parsed = (sets ?? "").split(separator: ",", omittingEmptySubsequences: false).map { set in
                set.split(separator: "+", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            }
            guard !(sets ?? "").isEmpty, parsed.allSatisfy({ !$0.isEmpty && $0.allSatisfy { !$0.isEmpty } }) else {
                throw ChannelRuleError.unreadable("'\(sets ?? "")' has an empty set or an empty name (say 'a+b, c')")
            }
            self = .permissionSets(parsed.map { Set($0.map { Permission($0) }) })
        default:
            throw ChannelRuleError.unreadable("'\(kind.prefix(40))' is not everyone, authenticated, staff, admin or permissions")
        }
    }
}

/// A stored channel rule that cannot be read.
public struct ChannelRuleError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    static func unreadable(_ why: String) -> ChannelRuleError { ChannelRuleError(description: "channel rule: " + why) }
}

/// Where channel rules live. Both built-in stores are one.
public protocol ChannelRuleStore: Sendable {
    /// The rule for `channel`, if one names it.
    func channelRule(for channel: ChannelName) async throws -> ChannelRule?
    /// Every rule, by channel name.
    func channelRules() async throws -> [ChannelRule]
    /// Adds the rule, or replaces the one for its channel.
    func saveChannelRule(_ rule: ChannelRule) async throws
    /// Removes the rule for `channel`. Returns whether there was one.
    func deleteChannelRule(for channel: ChannelName) async throws -> Bool
}
