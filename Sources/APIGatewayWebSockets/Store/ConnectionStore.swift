public import Foundation

/// Where sessions live: the record of every connection API Gateway holds for this backend.
///
/// Implementations must be safe to share between processes (several backends behind one load
/// balancer): every method is one atomic statement or transaction, nothing is cached.
/// ``InMemoryConnectionStore`` serves tests; the Vapor module's `FluentConnectionStore` serves
/// SQLite and PostgreSQL. The test kit's `ConnectionStoreConformance` checks any implementation.
public protocol ConnectionStore: Sendable {
    /// Records a new connection.
    ///
    /// A `session` whose id is already recorded as connected on the same API is a retried
    /// `$connect`: keep the creation time and count, take the new channel and user, answer
    /// ``ConnectOutcome/retried``. An id recorded as disconnected, or on another API, is never
    /// revived: change nothing and answer ``ConnectOutcome/alreadyClosed``.
    func connect(_ session: Session) async throws -> ConnectOutcome

    /// Marks the connection disconnected. Returns whether it was connected before.
    func disconnect(_ id: ConnectionID, apiID: APIID, at date: Date) async throws -> Bool

    /// Loads the live session of `id` on `apiID` and, in the same statement, adds one to its
    /// request count and sets `updatedAt`. Returns the updated session, or `nil` when there is no
    /// connected session with that id on that API.
    func touch(_ id: ConnectionID, apiID: APIID, at date: Date) async throws -> Session?

    /// The session with this id, connected or not.
    func session(_ id: ConnectionID) async throws -> Session?

    /// Moves a connected session to another channel (or none). Returns whether it was found.
    func setChannel(_ channel: ChannelName?, for id: ConnectionID, apiID: APIID, at date: Date) async throws -> Bool

    /// One page of the connected audience on `apiID`, in ascending id order, starting after
    /// `after` (keyset paging, so a page costs the same however deep it is).
    func audience(_ audience: Audience, apiID: APIID, after: ConnectionID?, limit: Int) async throws -> [ConnectionID]

    /// Marks these connections disconnected in one statement. Returns how many were connected.
    func markGone(_ ids: [ConnectionID], apiID: APIID, at date: Date) async throws -> Int

    /// The connected sessions, on any API, of `owner` (a login's web session, or a user), in
    /// ascending id order.
    func connectedSessions(of owner: SessionOwner) async throws -> [Session]

    /// Marks disconnected every connected session created before `date`, on any API, setting
    /// `updatedAt` to `now`. Returns how many it marked. API Gateway closes every connection within
    /// its maximum duration (``Session/maximumConnectionDuration``), so a session older than that
    /// whose `$disconnect` never came (API Gateway sends it best effort) is known dead.
    func disconnectSessions(createdBefore date: Date, at now: Date) async throws -> Int

    /// Deletes disconnected sessions last updated before `date`. Returns how many were deleted.
    func purgeDisconnected(before date: Date) async throws -> Int
}

/// Whose sessions: those that came from one web session (a login), or all of one user's.
public struct SessionOwner: Sendable, Hashable {
    package enum Kind: Sendable, Hashable {
        case webSession(hash: String)
        case user(String)
    }

    package let kind: Kind

    /// The sessions that came from the web session whose SHA-256 is `hash`.
    public static func webSession(hash: String) -> SessionOwner { SessionOwner(kind: .webSession(hash: hash)) }
    /// Every session of `userID`.
    public static func user(_ userID: String) -> SessionOwner { SessionOwner(kind: .user(userID)) }

    /// Whether `session` belongs to this owner.
    public func owns(_ session: Session) -> Bool {
        switch kind {
        case .webSession(let hash): session.webSessionHash == hash
        case .user(let userID): session.userID == userID
        }
    }
}
