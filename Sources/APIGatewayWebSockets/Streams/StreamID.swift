/// Whose stream a message is in: a channel's, or a user's (every connection of the user hears it).
///
/// Every stream is scoped to one API, like an ``Audience``. Stored as `channel:NAME` or
/// `user:ID` (``key``).
public struct StreamID: Hashable, Sendable, CustomStringConvertible {
    enum Kind: Hashable, Sendable {
        case channel(ChannelName)
        case user(String)
    }

    let kind: Kind

    /// The stream of `channel`: what its members hear.
    public static func channel(_ channel: ChannelName) -> StreamID { StreamID(kind: .channel(channel)) }
    /// The stream of the user `userID`: what every connection of theirs hears.
    public static func user(_ userID: String) -> StreamID { StreamID(kind: .user(userID)) }

    /// The stream a send to `audience` goes into, when it has one (a channel, a user).
    public init?(_ audience: Audience) {
        switch audience.kind {
        case .channel(let channel): kind = .channel(channel)
        case .user(let user): kind = .user(user)
        case .connection, .everyone: return nil
        }
    }

    init(kind: Kind) { self.kind = kind }

    /// The stored form: `channel:lobby`, `user:ada`.
    public var key: String {
        switch kind {
        case .channel(let channel): "channel:" + channel.rawValue
        case .user(let user): "user:" + user
        }
    }

    /// Reads the stored form back.
    /// - Throws: ``StreamError`` for a key that is neither `channel:NAME` nor `user:ID`.
    public init(key: String) throws(StreamError) {
        if key.hasPrefix("channel:"), let channel = try? ChannelName(String(key.dropFirst(8))) {
            kind = .channel(channel)
        } else if key.hasPrefix("user:"), key.count > 5 {
            kind = .user(String(key.dropFirst(5)))
        } else {
            throw StreamError(description: "'\(key)' is not a stream (channel:NAME or user:ID)")
        }
    }

    /// Who hears the stream's messages.
    public var audience: Audience {
        switch kind {
        case .channel(let channel): .channel(channel)
        case .user(let user): .user(user)
        }
    }

    /// The channel, for a channel's stream.
    public var channel: ChannelName? {
        if case .channel(let channel) = kind { return channel }
        return nil
    }

    /// The user, for a user's stream.
    public var userID: String? {
        if case .user(let user) = kind { return user }
        return nil
    }

    public var description: String { key }
}

/// A message's place in its stream: `offset` counts from 1, one up for each message; `epoch` names
/// the stream's history, and changes when that history is lost (its rows were reset), so an offset
/// of another epoch says nothing about this one.
public struct StreamPosition: Hashable, Sendable, Codable, CustomStringConvertible {
    public var offset: Int
    public var epoch: String

    public init(offset: Int, epoch: String) {
        self.offset = offset
        self.epoch = epoch
    }

    public var description: String { "\(offset)@\(epoch)" }

    /// Where a stream nothing was published to is: offset 0 of no epoch (`""`). A client that
    /// joined then and resumes from it is replayed the stream from its first message.
    public static let beforeTheFirst = StreamPosition(offset: 0, epoch: "")

    /// A new stream's epoch: random, so a store that lost its streams starts another history.
    public static func newEpoch() -> String {
        String(UInt64.random(in: 0...UInt64.max) & 0xFFFF_FFFF_FFFF, radix: 36)
    }
}

/// A stream operation that cannot be done, with a reason safe to show.
public struct StreamError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String

    package init(description: String) { self.description = description }

    /// A stream message must be a JSON object: its position is carried beside the app's keys.
    static let notAnObject = StreamError(
        description: "a message to a channel's or a user's stream must be a JSON object (its channel, offset and epoch are added to it)")
    /// The dispatcher has no streams (``GatewayConfiguration/streams`` is `nil`, or the store keeps none).
    public static let off = StreamError(
        description: "streams are off: set GatewayConfiguration.streams and use a store that keeps them (both built-in stores do)")
}
