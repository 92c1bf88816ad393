public import HTTPTypes

/// Why the framework, or a handler, turned an event away.
///
/// A refusal carries the HTTP status API Gateway receives, a short `reason` that is safe to show
/// a client, and a `detail` for the debug log that may name values the client must not see.
/// Every refusal the framework makes is one of the static members, listed with its status in the
/// README's refusal table. Handlers and connect hooks can throw their own with
/// ``Refusal/init(status:reason:detail:)``.
///
/// ```swift
/// throw Refusal(status: .forbidden, reason: "Room is full")
/// ```
public struct Refusal: Error, Sendable, CustomStringConvertible {
    /// Which rule refused, for tests and metrics; `custom` for handler-made refusals.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let gatewaySecret = Code("gateway_secret")
        public static let missingHeader = Code("missing_header")
        public static let unknownAPI = Code("unknown_api")
        public static let apiNotAllowed = Code("api_not_allowed")
        public static let bodyTooLarge = Code("body_too_large")
        public static let invalidConnectionID = Code("invalid_connection_id")
        public static let originNotAllowed = Code("origin_not_allowed")
        public static let invalidChannel = Code("invalid_channel")
        public static let connectionClosed = Code("connection_closed")
        public static let noLiveSession = Code("no_live_session")
        public static let invalidMessage = Code("invalid_message")
        public static let noHandler = Code("no_handler")
        public static let connectRejected = Code("connect_rejected")
        public static let replyTooLarge = Code("reply_too_large")
        public static let rateLimited = Code("rate_limited")
        public static let invalidToken = Code("invalid_token")
        public static let tooManyTokens = Code("too_many_tokens")
        public static let loginRequired = Code("login_required")
        public static let permissionDenied = Code("permission_denied")
        public static let channelDenied = Code("channel_denied")
        public static let tooManyChannels = Code("too_many_channels")
        public static let notInChannel = Code("not_in_channel")
        public static let loginExpired = Code("login_expired")
        public static let storeUnavailable = Code("store_unavailable")
        public static let loginThrottled = Code("login_throttled")
        public static let notAStreamMessage = Code("not_a_stream_message")
        public static let streamsOff = Code("streams_off")
        public static let custom = Code("custom")
    }

    public let code: Code
    public let status: HTTPResponse.Status
    /// Safe to show a client: it names no secret, header value or internal state.
    public let reason: String
    /// For the debug log only.
    public let detail: String

    /// A refusal of your own, e.g. from a handler or a connect hook.
    public init(status: HTTPResponse.Status, reason: String, detail: String? = nil) {
        self.init(code: .custom, status: status, reason: reason, detail: detail ?? reason)
    }

    init(code: Code, status: HTTPResponse.Status, reason: String, detail: String) {
        self.code = code
        self.status = status
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(status.code) \(code): \(reason) (\(detail))" }
}

extension Refusal {
    static func gatewaySecret(present: Bool) -> Refusal {
        Refusal(
            code: .gatewaySecret, status: .forbidden, reason: "Forbidden",
            detail: present ? "gateway secret header does not match any configured secret" : "gateway secret header missing"
        )
    }

    static func missingHeader(_ name: HTTPField.Name) -> Refusal {
        Refusal(
            code: .missingHeader, status: .badRequest, reason: "Missing required header \(name.rawName)",
            detail: "required header \(name.rawName) is absent or empty"
        )
    }

    static func unknownAPI(_ raw: String) -> Refusal {
        Refusal(code: .unknownAPI, status: .badRequest, reason: "Unknown API", detail: "API id '\(raw.prefix(64))' is not registered")
    }

    static func apiNotAllowed(_ apiID: APIID, route: RouteKey) -> Refusal {
        Refusal(
            code: .apiNotAllowed, status: .forbidden, reason: "Forbidden",
            detail: "API \(apiID) is not the API pinned by the controller of route \(route)"
        )
    }

    static func bodyTooLarge(_ size: Int, limit: Int) -> Refusal {
        Refusal(
            code: .bodyTooLarge, status: .contentTooLarge, reason: "Message too large",
            detail: "body of \(size) bytes exceeds the limit of \(limit)"
        )
    }

    static func invalidConnectionID(_ error: IdentifierError) -> Refusal {
        Refusal(code: .invalidConnectionID, status: .badRequest, reason: "Invalid connection id", detail: error.description)
    }

    static func originNotAllowed(_ origin: String?) -> Refusal {
        Refusal(
            code: .originNotAllowed, status: .forbidden, reason: "Origin not allowed",
            detail: origin.map { "Origin '\($0.prefix(200))' matches no allowed host" } ?? "Origin header missing"
        )
    }

    static func invalidChannel(_ error: IdentifierError) -> Refusal {
        Refusal(code: .invalidChannel, status: .badRequest, reason: "Invalid channel name", detail: error.description)
    }

    static func connectionClosed(_ id: ConnectionID) -> Refusal {
        Refusal(
            code: .connectionClosed, status: .conflict, reason: "Connection already closed",
            detail: "connect for \(id), which is recorded as disconnected; sessions are never revived"
        )
    }

    static func noLiveSession(_ id: ConnectionID, apiID: APIID) -> Refusal {
        Refusal(
            code: .noLiveSession, status: .gone, reason: "No live connection",
            detail: "no connected session \(id) on API \(apiID)"
        )
    }

    static func rateLimited(_ key: String, _ limit: GatewayConfiguration.RateLimit) -> Refusal {
        Refusal(
            code: .rateLimited, status: .tooManyRequests, reason: "Too many connections",
            detail: "\(key) is over \(limit.limit) connects in \(limit.window)")
    }

    static func tooManyLogins(_ limit: GatewayConfiguration.RateLimit) -> Refusal {
        Refusal(
            code: .loginThrottled, status: .tooManyRequests, reason: "Too many login attempts: try again in a few minutes",
            detail: "over \(limit.limit) login attempts in \(limit.window)")
    }

    static func loginRequired(_ what: String) -> Refusal {
        Refusal(
            code: .loginRequired, status: .unauthorized, reason: "Login required",
            detail: "\(what) requires a user; the connection has none")
    }

    static func permissionDenied(_ what: String, userID: String, requirement: Requirement) -> Refusal {
        Refusal(
            code: .permissionDenied, status: .forbidden, reason: "Permission denied",
            detail: "\(what) requires \(requirement); user \(userID.prefix(64)) does not meet it")
    }

    static let invalidToken = Refusal(
        code: .invalidToken, status: .unauthorized, reason: "Invalid or expired token",
        detail: "the one-time token is unknown, used, or expired")

    static func tooManyTokens(userID: String, limit: Int) -> Refusal {
        Refusal(
            code: .tooManyTokens, status: .tooManyRequests, reason: "Too many tokens",
            detail: "user \(userID.prefix(64)) was issued \(limit) tokens in the last minute")
    }

    static func replyTooLarge(_ error: MessagingError) -> Refusal {
        Refusal(code: .replyTooLarge, status: .contentTooLarge, reason: "Reply too large", detail: error.description)
    }

    static func invalidMessage(_ reason: String, detail: String) -> Refusal {
        Refusal(code: .invalidMessage, status: .badRequest, reason: reason, detail: detail)
    }

    static func noHandler(_ name: String?, route: RouteKey) -> Refusal {
        Refusal(
            code: .noHandler, status: .badRequest, reason: "Unknown handler",
            detail: "route \(route) has no handler '\(name?.prefix(64) ?? "default")' and no default handler"
        )
    }

    static func channelDenied(_ channel: ChannelName, reason: String, detail: String) -> Refusal {
        Refusal(code: .channelDenied, status: .forbidden, reason: reason, detail: "channel \(channel): \(detail)")
    }

    static func tooManyChannels(_ limit: Int) -> Refusal {
        Refusal(
            code: .tooManyChannels, status: .badRequest, reason: "Too many channels",
            detail: "the connection is in \(limit) channels, the most it may be in")
    }

    static func notInChannel(_ channel: ChannelName) -> Refusal {
        Refusal(
            code: .notInChannel, status: .forbidden, reason: "Not in that channel",
            detail: "presence of channel \(channel) asked by a connection that is not a member")
    }

    static func loginExpired(userID: String) -> Refusal {
        Refusal(
            code: .loginExpired, status: .unauthorized, reason: "Login no longer valid",
            detail: "user \(userID.prefix(64)) changed password, was deactivated or is gone since the connection opened")
    }

    /// The store (the database) did not answer: 503, so API Gateway or the caller may try again.
    public static let storeUnavailable = Refusal(
        code: .storeUnavailable, status: .serviceUnavailable, reason: "Service unavailable",
        detail: "the session store did not answer (the database is down or out of connections)")
}
