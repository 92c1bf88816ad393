/// Who a message is for: one connection, a channel, a user's connections, or everyone.
///
/// Every audience is scoped to one API: a channel of the same name on another API is another
/// channel.
public struct Audience: Hashable, Sendable, CustomStringConvertible {
    enum Kind: Hashable, Sendable {
        case connection(ConnectionID)
        case channel(ChannelName)
        case user(String)
        case everyone
    }

    let kind: Kind

    /// One connection, whether or not the store knows it.
    public static func connection(_ id: ConnectionID) -> Audience { Audience(kind: .connection(id)) }
    /// Every connected session in `channel`.
    public static func channel(_ channel: ChannelName) -> Audience { Audience(kind: .channel(channel)) }
    /// Every connected session of the user with this id.
    public static func user(_ userID: String) -> Audience { Audience(kind: .user(userID)) }
    /// Every connected session.
    public static let everyone = Audience(kind: .everyone)

    /// The single connection, for a ``connection(_:)`` audience.
    public var connectionID: ConnectionID? {
        switch kind {
        case .connection(let id): return id
        default: return nil
        }
    }
    /// The channel, for a ``channel(_:)`` audience.
    public var channel: ChannelName? {
        switch kind {
        case .channel(let channel): return channel
        default: return nil
        }
    }
    /// The user id, for a ``user(_:)`` audience.
    public var userID: String? {
        switch kind {
        case .user(let user): return user
        default: return nil
        }
    }

    public var description: String {
        switch kind {
        case .connection(let id): "connection \(id)"
        case .channel(let channel): "channel \(channel)"
        case .user(let user): "user \(user)"
        case .everyone: "everyone"
        }
    }
}
