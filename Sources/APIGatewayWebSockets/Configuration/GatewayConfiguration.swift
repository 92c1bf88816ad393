import APIGatewayAWS
public import HTTPTypes

/// How the framework checks and routes API Gateway's requests.
///
/// ```swift
/// var configuration = GatewayConfiguration()
/// configuration.secrets = [Environment.get("WS_GATEWAY_SECRET")!]
/// configuration.allowedOrigins = ["example.com", ".example.com"]
/// ```
public struct GatewayConfiguration: Sendable {
    /// The path under which `$connect`, `$disconnect` and `$default` are served, as
    /// `/{basePath}/connect`, `/{basePath}/disconnect` and `/{basePath}/default`. Default `ws`.
    public var basePath: String

    /// Accepted values of ``secretHeader``. The integration sends one as a static header
    /// (`integration.request.header.X-Ws-Gateway-Secret = 'value'`); listing two lets you rotate.
    /// Empty turns the check off, which is only sensible behind a private network.
    public var secrets: [String]

    /// The header carrying the gateway secret. Default `X-Ws-Gateway-Secret`.
    public var secretHeader: HTTPField.Name

    /// Headers every event must carry, beyond `connectionId` and `X-Amzn-Apigateway-Api-Id`
    /// (always required), per event.
    public var requiredHeaders: RequiredHeaders

    /// Where a connecting browser's page may be, by its `Origin`: a whole origin
    /// (`https://chat.example.com`, `http://127.0.0.1:8080`) matches exactly that scheme, host and
    /// port; a host (`example.com`) matches it on any scheme and port; `.example.com` matches it
    /// and every subdomain; `*` matches any. Empty skips the check (clients that are not browsers
    /// send no `Origin`).
    public var allowedOrigins: [String]

    /// The largest body accepted, in bytes. Default 131,072, API Gateway's own message limit.
    public var maxBodySize: Int

    /// The `$connect` query parameter carrying a one-time token (``ConnectionTokens``). Default
    /// `ws_token`.
    public var tokenParameter: String

    /// How often one client address, and one user, may connect. Off by default.
    public var connectRateLimits: ConnectRateLimits

    /// How many proxies of yours between API Gateway and this backend append to
    /// `X-Forwarded-For` (an ALB, nginx with `$proxy_add_x_forwarded_for`): the client address
    /// the per-address limit counts is the entry that many before the last, API Gateway's own.
    /// Default 0: API Gateway calls the backend directly.
    public var trustedProxies: Int = 0

    /// Who may join which channel, how many one connection may be in, and presence events.
    /// Default: unlisted channels allowed, no presence events.
    public var channels: ChannelConfiguration

    /// The `action` of the heartbeat a client sends to keep its connection past API Gateway's
    /// 10-minute idle timeout; the framework answers `{"type":"pong"}` (with the message's `id`)
    /// without app code, unless a handler of that name is registered. `nil`: no heartbeat.
    /// Default `ping`.
    public var heartbeatAction: String?

    /// How long a user's login state (``AuthStateSource``) is trusted before a message asks the
    /// app again. Default 1 second: a burst of messages costs one lookup per user, and a password
    /// change ends the user's connections on their next message a second later at most. Zero asks
    /// on every message.
    public var authStateLifetime: Duration

    /// Ordered channel and user streams with history, replay and an outbox; `nil` (the default):
    /// sends go out as they are, and `join`'s `since`, `history` and `resume` are refused. The
    /// store must keep streams (both built-in stores do).
    public var streams: StreamConfiguration?

    /// Take a `$connect`'s user from what API Gateway vouched for (an authorizer's principal or
    /// context, the IAM caller), mapped into a header; believed only behind ``secrets``. `nil`
    /// (the default): users come from the app's login, tokens and connect hooks.
    public var gatewayIdentity: GatewayIdentity?

    public init(
        basePath: String = "ws",
        secrets: [String] = [],
        secretHeader: HTTPField.Name = .gatewaySecret,
        requiredHeaders: RequiredHeaders = RequiredHeaders(),
        allowedOrigins: [String] = [],
        maxBodySize: Int = 131_072,
        tokenParameter: String = "ws_token",
        connectRateLimits: ConnectRateLimits = ConnectRateLimits(),
        channels: ChannelConfiguration = ChannelConfiguration(unlisted: .allow),
        authStateLifetime: Duration = .seconds(1),
        heartbeatAction: String? = "ping",
        streams: StreamConfiguration? = nil,
        gatewayIdentity: GatewayIdentity? = nil
    ) {
        self.streams = streams
        self.gatewayIdentity = gatewayIdentity
        self.basePath = basePath
        self.secrets = secrets
        self.secretHeader = secretHeader
        self.requiredHeaders = requiredHeaders
        self.allowedOrigins = allowedOrigins
        self.maxBodySize = maxBodySize
        self.tokenParameter = tokenParameter
        self.connectRateLimits = connectRateLimits
        self.channels = channels
        self.authStateLifetime = authStateLifetime
        self.heartbeatAction = heartbeatAction
    }

    /// At most ``limit`` events in any ``window``.
    public struct RateLimit: Sendable, Hashable {
        public var limit: Int
        public var window: Duration

        public init(_ limit: Int, per window: Duration) {
            self.limit = limit
            self.window = window
        }
    }

    /// Connect limits in a sliding window, answered 429: per client address (the first address of
    /// API Gateway's `X-Forwarded-For`), checked before anything else of a connect, and per user,
    /// checked once the user is known.
    public struct ConnectRateLimits: Sendable, Hashable {
        public var perAddress: RateLimit?
        public var perUser: RateLimit?

        public init(perAddress: RateLimit? = nil, perUser: RateLimit? = nil) {
            self.perAddress = perAddress
            self.perUser = perUser
        }
    }

    /// Extra headers required per event.
    public struct RequiredHeaders: Sendable {
        public var connect: [HTTPField.Name]
        public var message: [HTTPField.Name]
        public var disconnect: [HTTPField.Name]

        public init(connect: [HTTPField.Name] = [], message: [HTTPField.Name] = [], disconnect: [HTTPField.Name] = []) {
            self.connect = connect
            self.message = message
            self.disconnect = disconnect
        }

        func callAsFunction(_ event: EventKind) -> [HTTPField.Name] {
            switch event {
            case .connect: connect
            case .disconnect: disconnect
            default: message
            }
        }
    }
}

extension GatewayConfiguration {
    /// Whether `origin` (an `Origin` header value) names an allowed host.
    public func allows(origin: String) -> Bool {
        guard let host = Self.host(ofOrigin: origin) else { return false }
        return allowedOrigins.contains { pattern in
            let pattern = pattern.lowercased()
            if pattern == "*" { return true }
            if pattern.contains("://") { return Self.normalized(origin: origin) == Self.normalized(origin: pattern) }
            if pattern.hasPrefix(".") { return host == pattern.dropFirst() || host.hasSuffix(pattern) }
            return host == pattern
        }
    }

    /// `scheme://host[:port]` lowercased, without a trailing slash and without the scheme's
    /// default port (`https://a.com:443` is `https://a.com`).
    static func normalized(origin: String) -> String {
        var value = origin.lowercased()
        while value.hasSuffix("/") { value.removeLast() }
        for (scheme, port) in [("http://", ":80"), ("https://", ":443")] where value.hasPrefix(scheme) && value.hasSuffix(port) {
            value.removeLast(port.count)
        }
        return value
    }

    /// The lowercased host of `scheme://host[:port]`.
    public static func host(ofOrigin origin: String) -> String? {
        guard let split = URLSplit(origin), let authority = Authority(split.authority), !authority.host.isEmpty else { return nil }
        return authority.host
    }

    /// Compares `candidate` with every secret in time that does not depend on where they differ.
    func matchesSecret(_ candidate: String) -> Bool {
        var matched = false
        for secret in secrets where ConstantTime.equals(secret, candidate) {
            matched = true
        }
        return matched
    }
}
