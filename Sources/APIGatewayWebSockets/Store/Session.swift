public import Foundation

/// One tracked connection: what the backend knows about a client API Gateway holds open.
public struct Session: Sendable, Hashable {
    public var connectionID: ConnectionID
    public var apiID: APIID
    public var stage: String
    /// The application's id of the signed-in user, when known.
    public var userID: String?
    /// The SHA-256 of the web session (the login) the connection came from, when known: logging
    /// out closes its connections.
    public var webSessionHash: String?
    /// The SHA-256 of the user's login state when the connection opened (``AuthStateSource``);
    /// a message whose user's state no longer matches is refused and the connection closed.
    public var authStateHash: String?
    /// `false` once `$disconnect` arrived or a post found the connection gone.
    public var connected: Bool
    /// Messages received on this connection.
    public var requestCount: Int
    public var createdAt: Date
    public var updatedAt: Date

    /// The longest API Gateway holds a WebSocket connection: 2 hours. A session created longer
    /// ago than this, plus a minute of clock skew between instances, is dead whatever its row says.
    public static let maximumConnectionDuration: Duration = .seconds(2 * 60 * 60)

    public init(
        connectionID: ConnectionID,
        apiID: APIID,
        stage: String,
        userID: String? = nil,
        webSessionHash: String? = nil,
        authStateHash: String? = nil,
        connected: Bool = true,
        requestCount: Int = 0,
        createdAt: Date,
        updatedAt: Date? = nil
    ) {
        self.connectionID = connectionID
        self.apiID = apiID
        self.stage = stage
        self.userID = userID
        self.webSessionHash = webSessionHash
        self.authStateHash = authStateHash
        self.connected = connected
        self.requestCount = requestCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }
}

/// What recording a connect did.
public struct ConnectOutcome: Sendable, Hashable {
    private enum Kind: Hashable, Sendable { case created, retried, alreadyClosed }
    private let kind: Kind

    /// A new session was recorded.
    public static let created = ConnectOutcome(kind: .created)
    /// The id was already recorded as connected on the same API: a retried `$connect`. The
    /// session keeps its creation time and count, and takes the retry's channel, user and login.
    public static let retried = ConnectOutcome(kind: .retried)
    /// The id was already recorded as disconnected (or belongs to another API): nothing changed.
    public static let alreadyClosed = ConnectOutcome(kind: .alreadyClosed)
}
