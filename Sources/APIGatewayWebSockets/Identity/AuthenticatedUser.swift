/// Who the app's own login says is connecting, as an adapter hands it to the core: API Gateway
/// forwards the browser's `Cookie` on `$connect` only, so the adapter runs that request through
/// the app's session and authenticator and reports the user it found.
public struct AuthenticatedUser: Sendable, Hashable {
    /// The app's id for the user; it becomes the session's `userID`.
    public var id: String
    /// The web session the login lives in, if any (tokens are bound to it).
    public var webSessionID: String?

    public init(id: String, webSessionID: String? = nil) {
        self.id = id
        self.webSessionID = webSessionID
    }
}
