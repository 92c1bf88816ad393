public import Foundation

/// Where the records of who is connecting live: one-time connection tokens and the hits of the
/// connect rate limits. Shared by every backend instance, like ``ConnectionStore``: each method is
/// one atomic statement. ``InMemoryConnectionStore`` and the Vapor module's `FluentConnectionStore`
/// implement it; the test kit's `IdentityStoreConformance` checks any implementation.
public protocol IdentityStore: Sendable {
    /// Records an issued token (its hash, never the token).
    func issue(_ token: ConnectionToken) async throws

    /// The token with this hash if it is unused and not expired at `date`, without using it.
    func token(hash: String, at date: Date) async throws -> ConnectionToken?

    /// Marks the token with this hash used, if it is unused and not expired at `date`, and
    /// returns it, in one statement: of any number of concurrent calls with one hash, exactly one
    /// gets the token.
    func consumeToken(hash: String, at date: Date) async throws -> ConnectionToken?

    /// Deletes tokens that expired before `date`, used or not. Returns how many.
    func purgeTokens(expiredBefore date: Date) async throws -> Int

    /// Counts one hit for `key` at `date` if fewer than `limit` hits for it fall in the `window`
    /// before `date`, in one statement; returns whether it was counted (`false`: over the limit).
    /// A key never holds more than `limit` hits in a window, so records stay bounded.
    func hit(_ key: String, at date: Date, window: Duration, limit: Int) async throws -> Bool

    /// Deletes hits older than `date`. Returns how many.
    func purgeHits(before date: Date) async throws -> Int

    /// Up to `limit` tokens unused and unexpired at `date`, newest first (for an admin's list).
    func liveTokens(at date: Date, limit: Int) async throws -> [ConnectionToken]

    /// Revokes the token with this hash (it can no longer connect). Returns whether it was live.
    func revokeToken(hash: String) async throws -> Bool

    /// Revokes every unused token issued to the web session with this hash (its logout), in one
    /// statement. Returns how many were live.
    func revokeTokens(ofWebSession sessionHash: String) async throws -> Int

    /// Up to `limit` keys with hits after `date`, each with how many and its latest, busiest first.
    func hitCounts(after date: Date, limit: Int) async throws -> [HitCount]

    /// Deletes every hit of `key` (lifting its limit at once). Returns how many.
    func clearHits(key: String) async throws -> Int
}

/// How many rate-limit hits one key has, and the latest.
public struct HitCount: Sendable, Hashable {
    public var key: String
    public var hits: Int
    public var latest: Date

    public init(key: String, hits: Int, latest: Date) {
        self.key = key
        self.hits = hits
        self.latest = latest
    }
}

/// A one-time connection token as stored: the SHA-256 of the token, the user it vouches for, the
/// SHA-256 of the web session it was issued to (empty: none), and its lifetime.
public struct ConnectionToken: Sendable, Hashable {
    public var hash: String
    public var userID: String
    public var sessionHash: String
    /// The login state of the login the token was issued to (``AuthenticatedUser/authStateHash``),
    /// when the app keeps one: a connect with the token after the state changed is refused.
    public var authStateHash: String?
    public var createdAt: Date
    public var expiresAt: Date

    public init(hash: String, userID: String, sessionHash: String, authStateHash: String? = nil, createdAt: Date, expiresAt: Date) {
        self.hash = hash
        self.userID = userID
        self.sessionHash = sessionHash
        self.authStateHash = authStateHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}
