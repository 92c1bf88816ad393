/// Who the app's own login says is connecting, as an adapter hands it to the core: API Gateway
/// forwards the browser's `Cookie` on `$connect` only, so the adapter runs that request through
/// the app's session and authenticator and reports the user it found.
public struct AuthenticatedUser: Sendable, Hashable {
    /// The app's id for the user; it becomes the session's `userID`.
    public var id: String
    /// The web session the login lives in, if any (tokens are bound to it).
    public var webSessionID: String?
    /// The SHA-256 of the user's login state (``AuthStateSource``) when they logged in, which the
    /// app keeps in the web session (``AuthStateSource/fingerprint(_:)``): a connect after the
    /// state changed (a password change since the login) is refused. `nil`: the state is taken at
    /// connect.
    public var authStateHash: String?

    public init(id: String, webSessionID: String? = nil, authStateHash: String? = nil) {
        self.id = id
        self.webSessionID = webSessionID
        self.authStateHash = authStateHash
    }
}
