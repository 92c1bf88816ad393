public import AsyncHTTPClient
public import Foundation
public import Logging
import Metrics
public import NIOCore
import NIOHTTP1
import Synchronization
import Tracing

/// API Gateway's `@connections` management API: post to, get, and delete a client connection,
/// signed with SigV4 (service `execute-api`).
///
/// Requests go over the given `HTTPClient`'s keep-alive pool; give it a per-host connection limit
/// at least as large as your fan-out concurrency (``makeHTTPClient(maximumConnections:)``).
/// Throttling (429), server errors (5xx) and connection failures are retried with jittered
/// exponential backoff until ``RetryPolicy/maxAttempts`` or ``RetryPolicy/deadline``; other
/// errors are thrown at once as ``AWSError``.
///
/// ```swift
/// let client = ManagementClient(httpClient: http, credentials: CredentialProviderChain.default())
/// let endpoint = ManagementEndpoint.aws(apiID: "abc123defg", region: "eu-west-1", stage: "production")
/// try await client.post(ByteBuffer(string: "hi"), to: "L0SM9cOFvHcCIhw=", endpoint: endpoint, region: "eu-west-1")
/// ```
public final class ManagementClient: Sendable {
    /// How failed requests are retried.
    public struct RetryPolicy: Sendable {
        /// Attempts in all, the first included.
        public var maxAttempts: Int
        /// The first backoff's upper bound; each further one doubles, up to `maxDelay` (full jitter).
        public var baseDelay: Duration
        public var maxDelay: Duration
        /// No attempt starts after this much time since the first.
        public var deadline: Duration

        public init(
            maxAttempts: Int = 4, baseDelay: Duration = .milliseconds(25), maxDelay: Duration = .seconds(1),
            deadline: Duration = .seconds(10)
        ) {
            self.maxAttempts = maxAttempts
            self.baseDelay = baseDelay
            self.maxDelay = maxDelay
            self.deadline = deadline
        }

        /// The backoff before attempt `attempt + 1` (attempt counts from 1): uniform in
        /// `0...min(maxDelay, baseDelay · 2^(attempt-1))`.
        func delay(after attempt: Int) -> Duration {
            let cap = min(maxDelay, baseDelay * (1 << min(attempt - 1, 20)))
            return cap * Double.random(in: 0...1)
        }
    }

    public let httpClient: HTTPClient
    public let credentials: any CredentialProvider
    /// Time allowed for one attempt, connection included.
    public let timeout: TimeAmount
    public let retry: RetryPolicy
    public let logger: Logger
    private let signers = Mutex<[String: SigV4Signer]>([:])
    private let metrics = ManagementMetrics()

    public init(
        httpClient: HTTPClient,
        credentials: any CredentialProvider,
        timeout: TimeAmount = .seconds(5),
        retry: RetryPolicy = RetryPolicy(),
        logger: Logger = .disabled
    ) {
        self.httpClient = httpClient
        self.credentials = credentials
        self.timeout = timeout
        self.retry = retry
        self.logger = logger
    }

    /// An `HTTPClient` whose pool keeps up to `maximumConnections` keep-alive connections per
    /// host, on NIO's shared event loops. Shut it down when you are done with it.
    ///
    /// It makes no spans of its own: the management client makes one per call (`@connections
    /// POST`), and a second, the HTTP client's, cost 4% of a posted reply's CPU even untraced
    /// (`Benchmarks/README.md`, "What bounds them"; `TracingTests.aPostIsOneSpan`).
    public static func makeHTTPClient(maximumConnections: Int = 64) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = maximumConnections
        configuration.connectionPool.idleTimeout = .seconds(60)
        configuration.decompression = .disabled
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    // MARK: The three operations

    /// `PostToConnection`: sends `data` to the client as one frame.
    /// - Parameters:
    ///   - data: the frame's payload.
    ///   - payloadHash: the hex SHA-256 of `data`, when the caller has it (a fan-out
    ///     hashes its one payload once).
    ///   - connectionID: the connection to send to.
    ///   - endpoint: the API's `@connections` endpoint.
    ///   - region: the region the request is signed for.
    /// - Throws: ``AWSError`` (`.gone` when the connection no longer exists) or a transport error.
    public func post(_ data: ByteBuffer, payloadHash: String? = nil, to connectionID: String, endpoint: ManagementEndpoint, region: String)
        async throws
    {
        let hash = payloadHash ?? SigV4Signer.hexSHA256(data.readableBytesView)
        _ = try await perform(.POST, connectionID: connectionID, endpoint: endpoint, region: region, body: data, payloadHash: hash)
    }

    /// `GetConnection`: when the client connected, when it was last active, and who it is.
    public func connection(_ connectionID: String, endpoint: ManagementEndpoint, region: String) async throws -> ConnectionInfo {
        let body = try await perform(
            .GET, connectionID: connectionID, endpoint: endpoint, region: region, body: nil, payloadHash: SigV4Signer.emptyPayloadHash)
        do {
            return try JSONDecoder().decode(ConnectionInfo.self, from: Data(body.readableBytesView))
        } catch {
            throw AWSClientError.invalidResponse("GetConnection", reason: "\(error)")
        }
    }

    /// `DeleteConnection`: closes the client's connection (API Gateway then calls `$disconnect`).
    public func deleteConnection(_ connectionID: String, endpoint: ManagementEndpoint, region: String) async throws {
        _ = try await perform(
            .DELETE, connectionID: connectionID, endpoint: endpoint, region: region, body: nil, payloadHash: SigV4Signer.emptyPayloadHash)
    }

    // MARK: Signing, sending, retrying

    private func perform(
        _ method: HTTPMethod, connectionID: String, endpoint: ManagementEndpoint, region: String, body: ByteBuffer?, payloadHash: String
    ) async throws -> ByteBuffer {
        let started = ContinuousClock.now
        var attempt = 1
        while true {
            do {
                let result = try await attemptOnce(
                    method, connectionID: connectionID, endpoint: endpoint, region: region, body: body, payloadHash: payloadHash)
                metrics.record(method, outcome: "ok", since: started)
                return result
            } catch let error as AWSError where !error.isRetryable {
                metrics.record(method, outcome: error.isGone ? "gone" : "error", since: started)
                throw error
            } catch let error as CredentialError {
                metrics.record(method, outcome: "error", since: started)
                throw error
            } catch {
                let delay = retry.delay(after: attempt)
                guard attempt < retry.maxAttempts, started.duration(to: .now) + delay < retry.deadline else {
                    metrics.record(method, outcome: "error", since: started)
                    throw error
                }
                metrics.retries.increment()
                logger.debug(
                    "retrying",
                    metadata: [
                        "apigw.connection.id": "\(connectionID)", "apigw.attempt": "\(attempt)", "apigw.error": "\(error)",
                    ])
                try await Task.sleep(for: delay)
                attempt += 1
            }
        }
    }

    private func attemptOnce(
        _ method: HTTPMethod, connectionID: String, endpoint: ManagementEndpoint, region: String, body: ByteBuffer?, payloadHash: String
    ) async throws -> ByteBuffer {
        let path = endpoint.path(forConnection: connectionID)
        var signed = SigV4Request(method: method.rawValue, host: endpoint.hostHeader, path: path)
        signer(for: region).sign(&signed, credential: try await credentials.credential(), payloadHash: payloadHash)
        // One span per call (each attempt of a retried post is its own).
        return try await withSpan("@connections \(method.rawValue)", ofKind: .client) { span in
            span.attributes["http.request.method"] = method.rawValue
            span.attributes["server.address"] = endpoint.hostHeader
            do {
                return try await httpClient.executeAWS(
                    method, url: endpoint.origin + path, signed: signed, body: body, timeout: timeout, maximumAnswer: 1 << 20)
            } catch let error as AWSError {
                logger.debug("@connections error", metadata: ["apigw.connection.id": "\(connectionID)", "apigw.error": "\(error)"])
                throw error
            }
        }
    }

    private func signer(for region: String) -> SigV4Signer {
        signers.withLock { signers in
            if let signer = signers[region] { return signer }
            let signer = SigV4Signer(service: "execute-api", region: region)
            signers[region] = signer
            return signer
        }
    }
}

/// `GetConnection`'s answer: what our client reads and the local gateway writes. Times are read
/// from ISO-8601 strings (AWS) or epoch seconds (moto), and written as ISO-8601 with milliseconds.
public struct ConnectionInfo: Sendable, Hashable, Codable {
    public let connectedAt: Date
    public let lastActiveAt: Date
    public let sourceIP: String?
    public let userAgent: String?

    private enum Keys: String, CodingKey { case connectedAt, lastActiveAt, identity }
    private enum IdentityKeys: String, CodingKey { case sourceIp, userAgent }

    public init(connectedAt: Date, lastActiveAt: Date, sourceIP: String?, userAgent: String?) {
        self.connectedAt = connectedAt
        self.lastActiveAt = lastActiveAt
        self.sourceIP = sourceIP
        self.userAgent = userAgent
    }

    public func encode(to encoder: any Encoder) throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(formatter.string(from: connectedAt), forKey: .connectedAt)
        try container.encode(formatter.string(from: lastActiveAt), forKey: .lastActiveAt)
        var identity = container.nestedContainer(keyedBy: IdentityKeys.self, forKey: .identity)
        try identity.encodeIfPresent(sourceIP, forKey: .sourceIp)
        try identity.encodeIfPresent(userAgent, forKey: .userAgent)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        func date(_ key: Keys) throws -> Date {
            if let seconds = try? container.decode(Double.self, forKey: key) { return Date(timeIntervalSince1970: seconds) }
            let text = try container.decode(String.self, forKey: key)
            guard let date = parseISO8601(text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "not an ISO-8601 date: \(text)")
            }
            return date
        }
        connectedAt = try date(.connectedAt)
        lastActiveAt = try date(.lastActiveAt)
        let identity = try? container.nestedContainer(keyedBy: IdentityKeys.self, forKey: .identity)
        sourceIP = try identity?.decodeIfPresent(String.self, forKey: .sourceIp)
        userAgent = try identity?.decodeIfPresent(String.self, forKey: .userAgent)
    }
}

/// Counters and a timer per method, created once.
private struct ManagementMetrics: Sendable {
    let retries = Counter(label: "apigw_management_retries_total")
    private let outcomes: [String: Counter]
    private let timers: [String: Metrics.Timer]

    init() {
        var outcomes: [String: Counter] = [:]
        var timers: [String: Metrics.Timer] = [:]
        for method in ["POST", "GET", "DELETE"] {
            for outcome in ["ok", "gone", "error"] {
                outcomes[method + outcome] = Counter(
                    label: "apigw_management_requests_total", dimensions: [("method", method), ("outcome", outcome)])
            }
            timers[method] = Metrics.Timer(label: "apigw_management_request_duration_seconds", dimensions: [("method", method)])
        }
        self.outcomes = outcomes
        self.timers = timers
    }

    func record(_ method: HTTPMethod, outcome: String, since started: ContinuousClock.Instant) {
        outcomes[method.rawValue + outcome]?.increment()
        timers[method.rawValue]?.record(duration: started.duration(to: .now))
    }
}
