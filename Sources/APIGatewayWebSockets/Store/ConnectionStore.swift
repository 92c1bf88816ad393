public import Foundation

/// Where sessions live: the record of every connection API Gateway holds for this backend.
///
/// Implementations must be safe to share between processes (several backends behind one load
/// balancer): every method is one atomic statement or transaction, nothing is cached.
/// ``InMemoryConnectionStore`` serves tests; the Vapor module's `FluentConnectionStore` serves
/// SQLite and PostgreSQL. The test kit's `ConnectionStoreConformance` checks any implementation.
public protocol ConnectionStore: Sendable {
    /// Records a new connection, a member of `channel` when one is given.
    ///
    /// A `session` whose id is already recorded as connected on the same API is a retried
    /// `$connect`: keep the creation time and count, take the new user and login, make `channel`
    /// its only channel, answer ``ConnectOutcome/retried``. An id recorded as disconnected, or on
    /// another API, is never revived: change nothing and answer ``ConnectOutcome/alreadyClosed``.
    func connect(_ session: Session, joining channel: ChannelName?) async throws -> ConnectOutcome

    /// Marks the connection disconnected, in one write with no read before it. Returns its session
    /// as it was while connected (`updatedAt` may be `date`), or `nil` when it was not connected on
    /// `apiID`: an unknown id, another API's, or a repeated disconnect (of concurrent disconnects of
    /// one id, exactly one gets the session).
    func disconnect(_ id: ConnectionID, apiID: APIID, at date: Date) async throws -> Session?

    /// Loads the live session of `id` on `apiID` and, in the same statement, adds one to its
    /// request count and sets `updatedAt`. Returns the updated session, or `nil` when there is no
    /// connected session with that id on that API.
    func touch(_ id: ConnectionID, apiID: APIID, at date: Date) async throws -> Session?

    /// The session with this id, connected or not.
    func session(_ id: ConnectionID) async throws -> Session?

    /// One page of the sessions `filter` matches, in ascending id order after `after` (for an
    /// admin's list).
    func sessions(_ filter: SessionFilter, after: ConnectionID?, limit: Int) async throws -> [Session]

    /// Adds the connected session `id` on `apiID` to `channel`, unless it is in `limit` channels
    /// already. Concurrent joins of one connection must not pass the limit (the built-in stores:
    /// one statement on SQLite and in memory; PostgreSQL's is issue 09's).
    func join(_ channel: ChannelName, connection id: ConnectionID, apiID: APIID, limit: Int, at date: Date) async throws -> JoinOutcome

    /// Removes `id` from `channel`. Returns whether it was a member.
    func leave(_ channel: ChannelName, connection id: ConnectionID, apiID: APIID) async throws -> Bool

    /// Removes `id` from every channel. Returns the channels it was in, by name.
    func leaveAll(_ id: ConnectionID, apiID: APIID) async throws -> [ChannelName]

    /// The channels `id` is in (or was in when it closed, until its session is purged), by name.
    func channels(of id: ConnectionID, apiID: APIID) async throws -> [ChannelName]

    /// One page of `channel`'s members whose session is connected, in ascending id order after
    /// `after`.
    func members(of channel: ChannelName, apiID: APIID, after: ConnectionID?, limit: Int) async throws -> [ChannelMember]

    /// Up to `limit` distinct users among `channel`'s connected members, in ascending order.
    func users(in channel: ChannelName, apiID: APIID, limit: Int) async throws -> [String]

    /// The connected members of `channel`: connections, and distinct users among them.
    func count(of channel: ChannelName, apiID: APIID) async throws -> ChannelCount

    /// Every channel on `apiID` with a connected member, with its counts, by name.
    func channelCounts(apiID: APIID) async throws -> [ChannelCount]

    /// One page of the connected audience on `apiID`, in ascending id order, starting after
    /// `after` (keyset paging, so a page costs the same however deep it is). A channel's audience
    /// is its members whose session is connected.
    func audience(_ audience: Audience, apiID: APIID, after: ConnectionID?, limit: Int) async throws -> [ConnectionID]

    /// Marks these connections disconnected in one statement. Returns how many were connected.
    func markGone(_ ids: [ConnectionID], apiID: APIID, at date: Date) async throws -> Int

    /// How many sessions are connected on `apiID` (on every API when `nil`).
    func connectedCount(apiID: APIID?) async throws -> Int

    /// The connected sessions, on any API, of `owner` (a login's web session, or a user), in
    /// ascending id order.
    func connectedSessions(of owner: SessionOwner) async throws -> [Session]

    /// Marks disconnected every connected session created before `date`, on any API, setting
    /// `updatedAt` to `now`. Returns how many it marked. API Gateway closes every connection within
    /// its maximum duration (``Session/maximumConnectionDuration``), so a session older than that
    /// whose `$disconnect` never came (API Gateway sends it best effort) is known dead.
    func disconnectSessions(createdBefore date: Date, at now: Date) async throws -> Int

    /// Deletes disconnected sessions last updated before `date`, and their channel memberships.
    /// Returns how many sessions were deleted.
    func purgeDisconnected(before date: Date) async throws -> Int
}

/// Which sessions an admin's list shows: every field optional, all given ones must match.
public struct SessionFilter: Sendable, Hashable {
    public var apiID: APIID?
    /// Members of this channel.
    public var channel: ChannelName?
    public var userID: String?
    /// Only connected (`true`) or only disconnected (`false`) ones.
    public var connected: Bool?

    public init(apiID: APIID? = nil, channel: ChannelName? = nil, userID: String? = nil, connected: Bool? = nil) {
        self.apiID = apiID
        self.channel = channel
        self.userID = userID
        self.connected = connected
    }
}

/// Whose sessions: those that came from one web session (a login), all of one user's, or one.
public struct SessionOwner: Sendable, Hashable {
    package enum Kind: Sendable, Hashable {
        case webSession(hash: String)
        case user(String)
        case connection(ConnectionID)
    }

    package let kind: Kind

    /// The sessions that came from the web session whose SHA-256 is `hash`.
    public static func webSession(hash: String) -> SessionOwner { SessionOwner(kind: .webSession(hash: hash)) }
    /// Every session of `userID`.
    public static func user(_ userID: String) -> SessionOwner { SessionOwner(kind: .user(userID)) }
    /// The one session of `id` (an admin closing one connection).
    public static func connection(_ id: ConnectionID) -> SessionOwner { SessionOwner(kind: .connection(id)) }

    /// Whether `session` belongs to this owner.
    public func owns(_ session: Session) -> Bool {
        switch kind {
        case .webSession(let hash): session.webSessionHash == hash
        case .user(let userID): session.userID == userID
        case .connection(let id): session.connectionID == id
        }
    }
}
