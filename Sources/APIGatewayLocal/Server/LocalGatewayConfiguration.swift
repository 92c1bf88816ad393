public import APIGatewayAWS
public import Foundation

/// How the local gateway listens, whom it trusts, and how closely it mimics AWS's limits.
public struct LocalGatewayConfiguration: Sendable {
    /// Loopback by default; the gateway is for one machine.
    public var host: String
    /// `0` picks a free port (see ``LocalGateway/port``).
    public var port: Int
    /// The region APIs live in (signing scope, `context`).
    public var region: String
    /// Keys `@connections` and control-plane requests must be signed with.
    public var credentials: [Credential]
    /// Check SigV4 signatures (on by default): unsigned or wrongly signed requests get 403.
    public var verifiesSignatures: Bool
    /// Where APIs created through the control plane persist across restarts; `nil` keeps them in memory.
    public var stateFile: String?
    /// APIs to serve from the start (e.g. from a declaration file).
    public var apis: [LocalAPI]
    /// 10 minutes without a frame in either direction closes the connection (1001).
    public var idleTimeout: Duration
    /// A connection lives at most 2 hours (1001).
    public var maximumConnectionDuration: Duration
    /// 32 KB: a larger frame closes the connection with 1009.
    public var maximumFrameSize: Int
    /// 128 KB: a larger message closes the connection with 1009; a larger `@connections` post is 413.
    public var maximumMessageSize: Int
    /// Forward the client's query string to the `$connect` integration (AWS does, per users' reports).
    public var forwardsConnectQuery: Bool
    /// Treat a route response selection expression alone (without a route response) as two-way.
    public var expressionEnablesTwoWay: Bool
    /// How often idle and maximum-duration limits are checked.
    public var sweepInterval: Duration
    /// The clock connections are timed with; tests inject one they can move.
    public var clock: LocalClock

    // MARK: Bounds

    /// Bytes that may wait to be written to one client (1 MiB). A `@connections` post that
    /// would pass it gets `429 LimitExceededException`, as AWS answers once a client's buffer is
    /// full; replies, error frames and pongs past it are dropped.
    public var outboundBufferLimit: Int
    /// Messages of one connection whose integrations run at once (16); past it, the
    /// connection's frames wait to be read.
    public var maximumConcurrentMessages: Int
    /// TCP connections open at once, WebSockets and HTTP (20,000). An upgrade past it is
    /// refused with 429, an HTTP request with 503.
    public var maximumConnections: Int
    /// The largest HTTP request body (1 MiB) on `@connections` and the control plane: 413.
    public var maximumRequestBodySize: Int
    /// The longest request target (8 KiB): 414.
    public var maximumURILength: Int
    /// The largest header block (16 KiB, URL included) and the most header fields (100): NIO's
    /// parser answers 400 past either.
    public var maximumHeaderSize: Int
    public var maximumHeaderCount: Int
    /// How long a client gets to read a close frame before the socket is cut (5 s).
    public var closeTimeout: Duration
    /// How long a graceful shutdown of ``LocalGateway/run()`` waits for messages already sent to the backend to be
    /// answered (their replies posted through `@connections`) before it closes connections (5 s).
    /// Messages arriving meanwhile are not sent on.
    public var drainTimeout: Duration = .seconds(5)
    /// How long a TCP connection may send nothing before it upgrades, and an HTTP keep-alive
    /// connection between requests (60 s).
    public var handshakeTimeout: Duration
    /// Opt-in: new connections a second (AWS's default is 500); past it the upgrade gets 429.
    public var connectRateLimit: Int?
    /// Opt-in: `@connections` calls, a token bucket of `rate` a second and `burst` saved
    /// (AWS's account default is 10,000 and 5,000); past it, `429 LimitExceededException`.
    public var callbackRateLimit: (rate: Int, burst: Int)?
    /// The account in ARNs the gateway writes: an authorizer's `methodArn`, an IAM caller's `userArn`.
    public var accountID: String = "000000000000"
    /// Lambda authorizers called over HTTP: a function's ARN (or the whole `authorizerUri`) → the
    /// `http(s)://` URL that answers its events. An `authorizerUri` that is a URL needs no entry.
    public var authorizerFunctions: [String: String] = [:]
    /// Where stages with `accessLogSettings` write their access log (standard output by default).
    public var accessLogDestination: AccessLogDestination = .standardOutput

    public init(
        host: String = "127.0.0.1",
        port: Int = 8081,
        region: String = "us-east-1",
        credentials: [Credential] = [LocalGatewayConfiguration.developmentCredential],
        verifiesSignatures: Bool = true,
        stateFile: String? = nil,
        apis: [LocalAPI] = [],
        idleTimeout: Duration = .seconds(600),
        maximumConnectionDuration: Duration = .seconds(7200),
        maximumFrameSize: Int = 32_768,
        maximumMessageSize: Int = 131_072,
        forwardsConnectQuery: Bool = true,
        expressionEnablesTwoWay: Bool = false,
        sweepInterval: Duration = .seconds(1),
        clock: LocalClock = .system,
        outboundBufferLimit: Int = 1 << 20,
        maximumConcurrentMessages: Int = 16,
        maximumConnections: Int = 20_000,
        maximumRequestBodySize: Int = 1 << 20,
        maximumURILength: Int = 8192,
        maximumHeaderSize: Int = 16_384,
        maximumHeaderCount: Int = 100,
        closeTimeout: Duration = .seconds(5),
        handshakeTimeout: Duration = .seconds(60),
        connectRateLimit: Int? = nil,
        callbackRateLimit: (rate: Int, burst: Int)? = nil
    ) {
        self.host = host
        self.port = port
        self.region = region
        self.credentials = credentials
        self.verifiesSignatures = verifiesSignatures
        self.stateFile = stateFile
        self.apis = apis
        self.idleTimeout = idleTimeout
        self.maximumConnectionDuration = maximumConnectionDuration
        self.maximumFrameSize = maximumFrameSize
        self.maximumMessageSize = maximumMessageSize
        self.forwardsConnectQuery = forwardsConnectQuery
        self.expressionEnablesTwoWay = expressionEnablesTwoWay
        self.sweepInterval = sweepInterval
        self.clock = clock
        self.outboundBufferLimit = outboundBufferLimit
        self.maximumConcurrentMessages = max(1, maximumConcurrentMessages)
        self.maximumConnections = maximumConnections
        self.maximumRequestBodySize = maximumRequestBodySize
        self.maximumURILength = maximumURILength
        self.maximumHeaderSize = maximumHeaderSize
        self.maximumHeaderCount = maximumHeaderCount
        self.closeTimeout = closeTimeout
        self.handshakeTimeout = handshakeTimeout
        self.connectRateLimit = connectRateLimit
        self.callbackRateLimit = callbackRateLimit
    }

    /// The development keys the chat example signs with by default.
    public static let developmentCredential = Credential(
        accessKeyID: "AKIDLOCALDEVELOPMENT", secretAccessKey: "local-development-secret-key")
}

/// Wall-clock time for the gateway's timers, replaceable in tests.
public struct LocalClock: Sendable {
    public let now: @Sendable () -> Date
    public init(now: @escaping @Sendable () -> Date) { self.now = now }
    public static let system = LocalClock(now: Date.init)
}

extension LocalGatewayConfiguration {
    /// The keys the gateway accepts, as its command line asks for them.
    ///
    /// With an access key id, its secret comes from `secretAccessKey`, else `secretFile` (the
    /// file's first line), else `APIGW_LOCAL_SECRET_ACCESS_KEY`, so it need not be on a command
    /// line where `ps` shows it. Without one, the development key is accepted, and so is the pair
    /// in `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, so boto3 and the AWS CLI work with a
    /// shell's usual keys.
    /// - Throws: ``LocalGatewayError`` when an access key id has no secret or the file cannot be read.
    public static func credentials(
        accessKeyID: String?, secretAccessKey: String?, secretFile: String?, environment: [String: String]
    ) throws -> [Credential] {
        guard let accessKeyID else {
            var accepted = [developmentCredential]
            if let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty, let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
            {
                accepted.append(Credential(accessKeyID: key, secretAccessKey: secret))
            }
            return accepted
        }
        if let secretAccessKey { return [Credential(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey)] }
        if let secretFile {
            let text: String
            do {
                text = try String(contentsOfFile: secretFile, encoding: .utf8)
            } catch {
                throw LocalGatewayError.unreadableSecret("the secret file \(secretFile) cannot be read: \(error)")
            }
            guard let line = text.split(whereSeparator: \.isNewline).first.map({ $0.trimmingCharacters(in: .whitespaces) }), !line.isEmpty
            else { throw LocalGatewayError.unreadableSecret("the secret file \(secretFile) is empty") }
            return [Credential(accessKeyID: accessKeyID, secretAccessKey: line)]
        }
        if let secret = environment["APIGW_LOCAL_SECRET_ACCESS_KEY"], !secret.isEmpty {
            return [Credential(accessKeyID: accessKeyID, secretAccessKey: secret)]
        }
        throw LocalGatewayError.unreadableSecret(
            "--access-key-id \(accessKeyID) needs its secret: --secret-access-key, --secret-access-key-file or APIGW_LOCAL_SECRET_ACCESS_KEY"
        )
    }
}
