import APIGatewayAWS
public import Foundation

/// One-time connection tokens, for clients whose cookies do not reach API Gateway's domain: an
/// authenticated page asks for one (the Vapor module's token endpoint), then connects with
/// `?ws_token=…`; `$connect` consumes it in one statement and the connection belongs to the
/// token's user.
///
/// Tokens are 32 random bytes (base64url), stored as their SHA-256, single use, expiring after
/// ``lifetime``, bound to the web session they were issued to, and limited per user per minute.
///
/// ```swift
/// let issued = try await ConnectionTokens(store: store).issue(userID: user.id, webSessionID: session.id)
/// ```
public struct ConnectionTokens: Sendable {
    public let store: any IdentityStore
    /// How long an unused token stays valid. Default 60 seconds.
    public var lifetime: Duration
    /// Most tokens one user may be issued in a minute; past it, ``issue(userID:webSessionID:authStateHash:now:)``
    /// is refused 429. Default 10.
    public var perUserPerMinute: Int

    public init(store: any IdentityStore, lifetime: Duration = .seconds(60), perUserPerMinute: Int = 10) {
        self.store = store
        self.lifetime = lifetime
        self.perUserPerMinute = perUserPerMinute
    }

    /// A token as handed to the client.
    public struct Issued: Sendable, Hashable, Codable {
        public let token: String
        public let expiresAt: Date
    }

    /// Issues a token for `userID`, bound to `webSessionID` (`nil`: a login without a web session,
    /// whose connections no logout closes) and to the login's state hash, if the app keeps one
    /// (``AuthenticatedUser/authStateHash``).
    /// - Throws: a ``Refusal`` (429) past ``perUserPerMinute``, counted in one statement, so
    ///   concurrent requests cannot overrun it.
    public func issue(userID: String, webSessionID: String?, authStateHash: String? = nil, now: Date = Date()) async throws -> Issued {
        guard try await store.hit("token user \(userID)", at: now, window: .seconds(60), limit: perUserPerMinute) else {
            throw Refusal.tooManyTokens(userID: userID, limit: perUserPerMinute)
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let token = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        let expiresAt = now.addingTimeInterval(lifetime.timeInterval)
        try await store.issue(
            ConnectionToken(
                hash: Self.hash(token), userID: userID, sessionHash: webSessionID.map(Self.hash) ?? "", authStateHash: authStateHash,
                createdAt: now, expiresAt: expiresAt))
        return Issued(token: token, expiresAt: expiresAt)
    }

    /// The SHA-256 (hex) a token or a web session id is stored as.
    public static func hash(_ value: String) -> String { SigV4Signer.hexSHA256(value.utf8) }
}
