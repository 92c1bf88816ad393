public import Foundation

/// One connection in a channel.
public struct ChannelMember: Sendable, Hashable {
    public var connectionID: ConnectionID
    /// The connection's user, when it has one.
    public var userID: String?
    public var joinedAt: Date

    public init(connectionID: ConnectionID, userID: String?, joinedAt: Date) {
        self.connectionID = connectionID
        self.userID = userID
        self.joinedAt = joinedAt
    }
}

/// How many are in a channel: live connections, and the distinct users among them.
public struct ChannelCount: Sendable, Hashable, Codable {
    public var channel: ChannelName
    public var connections: Int
    public var users: Int

    public init(channel: ChannelName, connections: Int, users: Int) {
        self.channel = channel
        self.connections = connections
        self.users = users
    }
}

/// What asking a store to add a connection to a channel did.
public struct JoinOutcome: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable { case joined, alreadyMember, notConnected, full }
    let kind: Kind

    /// The connection is now a member, and was not before.
    public static let joined = JoinOutcome(kind: .joined)
    /// It was a member already; nothing changed.
    public static let alreadyMember = JoinOutcome(kind: .alreadyMember)
    /// No live session on that API has the id.
    public static let notConnected = JoinOutcome(kind: .notConnected)
    /// The connection is in as many channels as it may be.
    public static let full = JoinOutcome(kind: .full)

    public var description: String {
        switch kind {
        case .joined: "joined"
        case .alreadyMember: "already a member"
        case .notConnected: "not connected"
        case .full: "in too many channels"
        }
    }
}
