import Foundation
import Synchronization

/// The app's word on whether a user's login still holds, so a connection does not outlive it.
///
/// At `$connect` the state's SHA-256 is stored with the session; each message compares it with
/// the current state, and a difference (a password change, a deactivation) refuses the message
/// 401 and closes the connection. Return anything that changes when the login should end, as
/// Django's session auth hash does:
///
/// ```swift
/// struct Users: AuthStateSource {
///     func authState(ofUser id: String) async throws -> String? {
///         guard let user = try await User.find(UUID(uuidString: id), on: db), user.isActive else { return nil }
///         return user.passwordHash
///     }
/// }
/// ```
public protocol AuthStateSource: Sendable {
    /// The user's login state; `nil` when the user is gone or deactivated (refused outright).
    func authState(ofUser userID: String) async throws -> String?
}

extension AuthStateSource {
    /// The hash the framework compares of `state`: keep it in the web session when the user logs
    /// in and hand it back in ``AuthenticatedUser/authStateHash``, so a login made before a
    /// password change cannot open new connections after it.
    public static func fingerprint(_ state: String) -> String { ConnectionTokens.hash(state) }
}

/// Auth states by user, each kept for a short time, so a burst of messages costs the app one
/// lookup per user rather than one each. Bounded: when full it starts over.
final class AuthStateCache: Sendable {
    private struct Entry {
        let hash: String?
        let expires: ContinuousClock.Instant
    }

    let source: any AuthStateSource
    private let lifetime: Duration
    private let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    init(source: any AuthStateSource, lifetime: Duration, capacity: Int = 10_000) {
        self.source = source
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// The SHA-256 of the user's current state, or `nil` when the user has none.
    func hash(ofUser userID: String) async throws -> String? {
        let now = ContinuousClock.now
        if let entry = entries.withLock({ $0[userID] }), entry.expires > now { return entry.hash }
        let hash = try await source.authState(ofUser: userID).map(ConnectionTokens.hash)
        guard lifetime > .zero else { return hash }
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[userID] = Entry(hash: hash, expires: now + lifetime)
        }
        return hash
    }

    /// Forgets `userID`'s state, so the next message asks the app.
    func forget(_ userID: String) { _ = entries.withLock { $0.removeValue(forKey: userID) } }
}
