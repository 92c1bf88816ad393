public import APIGatewayAWS
import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
public import ServiceLifecycle
import Synchronization

/// API Gateway's WebSocket side on one machine, for HTTP backends.
///
/// One port serves client WebSockets (`ws://host:port/{apiId}/{stage}`), the `@connections` API
/// (`http://host:port/{apiId}/{stage}/@connections/{id}`) and the apigatewayv2 control plane
/// (`http://host:port/v2/…`), as AWS serves them. `$connect` is called before the handshake
/// completes, messages are routed by the API's route selection expression, `$disconnect` follows
/// every accepted connect, and `@connections` and control-plane requests must be signed with SigV4
/// by one of the configured credentials. Every buffer and every surface is bounded (see
/// ``LocalGatewayConfiguration``); what a client sends can end its own connection, never the gateway.
///
/// It is a `Service` with one lifecycle, ``run()``: put it in the app's `ServiceGroup` (a Vapor app
/// adapts it with the Vapor door's `ServiceLifecycleHandler`), and learn the port it bound (port 0
/// takes any free one) from ``waitUntilRunning()``:
/// ```swift
/// let gateway = LocalGateway(configuration: .init(port: 8081, apis: declaration.localAPIs()))
/// try await ServiceGroup(services: [gateway], gracefulShutdownSignals: [.sigterm], logger: logger).run()
/// ```
public final class LocalGateway: Service, Sendable {
    public let configuration: LocalGatewayConfiguration
    let logger: Logger
    let connections = ConnectionRegistry()
    /// The held WebSocket connections, and the messages and `$disconnect`s they hand over.
    let held = HeldConnections()
    let plainChannels = PlainChannels()
    let state: GatewayState
    let integrationClient: HTTPClient
    let verifier: SigV4Verifier
    let limits: RateLimits
    /// What API Gateway guards before the backend hears of a request.
    let authorizerCache = AuthorizerCache()
    let authorizerFunctions: Mutex<[String: String]>
    let throttles: RouteThrottles
    let usagePlanMeter: UsagePlanMeter
    let accessLog: AccessLogWriter
    /// TCP connections open now, of any kind.
    let openChannels = Atomic<Int>(0)
    /// Messages delivered to clients since start, by the way they came.
    let postsDelivered = Atomic<Int>(0)
    let responsesDelivered = Atomic<Int>(0)
    /// Whether new messages are turned away, and how many are with the backend, on every
    /// connection: one lock, so a message either starts before the drain counts or not at all.
    private let messageGate = Mutex(MessageGate())
    private let lifecycle = Mutex(Lifecycle())

    /// Where ``run()`` is: not started, bound (and serving), or over; and who waits to hear it.
    private struct Lifecycle {
        enum Phase {
            case idle
            case running(any Channel)
            case failed(any Error)
            case stopped
        }
        var phase = Phase.idle
        var stopping = false
        var waiters: [CheckedContinuation<Int, any Error>] = []
    }

    /// - Parameters:
    ///   - configuration: where it listens, whom it trusts, its limits.
    ///   - logger: where it logs; events are logged at debug level or lower.
    public init(configuration: LocalGatewayConfiguration = LocalGatewayConfiguration(), logger: Logger = .disabled) {
        self.configuration = configuration
        self.authorizerFunctions = Mutex(configuration.authorizerFunctions)
        self.logger = logger
        self.state = GatewayState(apis: configuration.apis, file: configuration.stateFile)
        var client = HTTPClient.Configuration()
        client.connectionPool.retryConnectionEstablishment = false
        client.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        client.decompression = .disabled
        // API Gateway adds `X-Amzn-Trace-Id`, not a `traceparent`, and makes no client span: nor
        // does the emulator (the HTTP client's span cost 3% of the gateway's CPU a message).
        client.tracing.tracer = nil
        self.integrationClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: client)
        self.verifier = SigV4Verifier(credentials: configuration.credentials, region: configuration.region)
        self.limits = RateLimits(configuration: configuration)
        self.throttles = RouteThrottles(clock: configuration.clock)
        self.usagePlanMeter = UsagePlanMeter(clock: configuration.clock)
        self.accessLog = AccessLogWriter(destination: configuration.accessLogDestination)
    }

    /// A gateway made and never run (a command that only reads the app's records, a failed
    /// start) still owns its integration client: it is shut down here, as `run()` would have.
    deinit {
        let ran = lifecycle.withLock { state in if case .idle = state.phase { false } else { true } }
        if !ran { integrationClient.shutdown { _ in } }
    }

    /// What the gateway has delivered to clients since it started, by the way it came: a test
    /// tells a reply sent in a two-way route's response from one posted.
    public struct Deliveries: Sendable, Hashable {
        /// `@connections` posts accepted for a client.
        public var posts: Int
        /// Frames sent from a two-way route's integration response.
        public var routeResponses: Int
    }

    /// What the gateway has delivered to clients since it started.
    public var deliveries: Deliveries {
        Deliveries(posts: postsDelivered.load(ordering: .relaxed), routeResponses: responsesDelivered.load(ordering: .relaxed))
    }

    /// The port the gateway listens on while ``run()`` serves.
    public var port: Int? {
        lifecycle.withLock { if case .running(let listener) = $0.phase { listener.localAddress?.port } else { nil } }
    }

    /// Waits until ``run()`` has bound its port and serves, and returns the port.
    /// - Throws: what stopped ``run()`` before it served (a port in use, an unreadable state
    ///   file), or `CancellationError` when it ended without serving.
    public func waitUntilRunning() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<Int, any Error>? = lifecycle.withLock { state in
                switch state.phase {
                case .idle:
                    state.waiters.append(continuation)
                    return nil
                case .running(let listener): return .success(listener.localAddress?.port ?? configuration.port)
                case .failed(let error): return .failure(error)
                case .stopped: return .failure(CancellationError())
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    /// Maps a Lambda authorizer's function ARN to the `http(s)://` URL that answers its events, as
    /// ``LocalGatewayConfiguration/authorizerFunctions`` does, once the gateway runs: for an
    /// authorizer served by a backend whose address is known only once it listens.
    public func mapAuthorizerFunction(_ functionARN: String, to url: String) {
        authorizerFunctions.withLock { $0[functionARN] = url }
    }

    /// The APIs it serves.
    public var currentAPIs: [LocalAPI] { state.apis }

    /// The custom domains it serves.
    public var currentDomainNames: [LocalDomainName] { state.domainNames }

    /// How many clients are connected.
    public var connectionCount: Int { connections.count }

    func api(_ id: String) -> LocalAPI? { state.api(id) }

    /// Serves `api` (replacing one with the same id), persisting it in the state file if any.
    /// - Throws: when the state file cannot be written.
    public func register(_ api: LocalAPI) throws {
        try state.update { $0.apis[api.apiId] = api }
    }

    // MARK: Lifecycle

    /// Serves until the service group shuts down gracefully: then stops taking messages and waits
    /// (up to ``LocalGatewayConfiguration/drainTimeout``) for those already with the backend, so
    /// their replies still reach their clients; closes the listener and every connection (1001),
    /// waits for each connection's `$disconnect` call, and returns. Cancelled, it closes at once.
    /// - Throws: when the state file does not decode or the port cannot be bound.
    public func run() async throws {
        let listener: NIOAsyncChannel<AcceptedChannel, Never>
        do {
            listener = try await bind()
        } catch {
            finish(.failed(error))
            try await integrationClient.shutdown()
            throw error
        }
        finish(.running(listener.channel))
        logURLs(port: listener.channel.localAddress?.port ?? configuration.port)
        do {
            try await withGracefulShutdownHandler {
                try await withTaskCancellationHandler {
                    try await serve(listener)
                } onCancel: {
                    self.beginShutdown()
                }
            } onGracefulShutdown: {
                // Drain first: messages with the backend get their replies.
                Task {
                    await self.drain()
                    self.beginShutdown()
                }
            }
        } catch {
            await accessLog.drained(within: .seconds(1))
            finish(.stopped)
            try await integrationClient.shutdown()
            throw error
        }
        // The last events' access-log lines go out, unless whoever reads them has stopped.
        await accessLog.drained(within: .seconds(1))
        finish(.stopped)
        try await integrationClient.shutdown()
    }

    /// Says where to point clients, SDKs and backends, as the gateway starts serving.
    private func logURLs(port: Int) {
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        let base = "\(host):\(port)"
        logger.notice("control plane (apigatewayv2; boto3 and the AWS CLI with endpoint_url): http://\(base)")
        for api in state.apis {
            for stage in api.stages.keys.sorted() {
                logger.notice(
                    "API \(api.apiId) stage \(stage): clients connect to ws://\(base)/\(api.apiId)/\(stage); backends post to http://\(base)/\(api.apiId)/\(stage)/@connections/{connectionId}"
                )
            }
        }
    }

    /// Moves the lifecycle on and tells those waiting for the port.
    private func finish(_ phase: Lifecycle.Phase) {
        let (waiters, result): ([CheckedContinuation<Int, any Error>], Result<Int, any Error>) = lifecycle.withLock { state in
            state.phase = phase
            defer { state.waiters = [] }
            switch phase {
            case .running(let listener): return (state.waiters, .success(listener.localAddress?.port ?? configuration.port))
            case .failed(let error): return (state.waiters, .failure(error))
            case .idle, .stopped: return (state.waiters, .failure(CancellationError()))
            }
        }
        for waiter in waiters { waiter.resume(with: result) }
    }

    private func beginShutdown() {
        let listener = lifecycle.withLock { state -> (any Channel)? in
            state.stopping = true
            if case .running(let listener) = state.phase { return listener }
            return nil
        }
        listener?.close(promise: nil)
        plainChannels.closeIdle()
        for connection in connections.all { close(connection, cause: .shuttingDown) }
    }

    var isStopping: Bool { lifecycle.withLock { $0.stopping } }

    /// Turns new messages away and waits, up to the drain timeout, for those with the backend.
    func drain() async {
        let idle = messageGate.withLock { gate in
            gate.draining = true
            return gate.inFlight == 0
        }
        guard !idle else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.messagesEnded() }
            group.addTask { try? await Task.sleep(for: self.configuration.drainTimeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Returns when the last message in flight ends, or when cancelled.
    private func messagesEnded() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = messageGate.withLock { gate in
                    guard gate.inFlight > 0, !gate.drainAbandoned else { return true }
                    gate.drained = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            messageGate.withLock { gate in
                gate.drainAbandoned = true
                return gate.takeDrained()
            }?.resume()
        }
    }

    /// Counts a message in, unless the gateway is draining.
    func beginMessage() -> Bool {
        messageGate.withLock { gate in
            guard !gate.draining else { return false }
            gate.inFlight += 1
            return true
        }
    }

    func endMessage() {
        messageGate.withLock { gate in
            gate.inFlight -= 1
            return gate.inFlight == 0 ? gate.takeDrained() : nil
        }?.resume()
    }

    /// Closes connections idle for longer than `idleTimeout` or older than
    /// `maximumConnectionDuration` (both 1001), by the configured clock.
    public func sweep() {
        let now = configuration.clock.now()
        for connection in connections.all {
            if now.timeIntervalSince(connection.connectedAt) >= configuration.maximumConnectionDuration.timeInterval {
                close(connection, cause: .maximumDuration)
            } else if now.timeIntervalSince(connection.lastActiveAt) >= configuration.idleTimeout.timeInterval {
                close(connection, cause: .idle)
            }
        }
    }

    /// Closes `id` with `cause`; `$disconnect` follows when its channel has gone.
    func close(_ id: String, cause: CloseCause) {
        guard let connection = connections.get(id) else { return }
        close(connection, cause: cause)
    }

    /// Notes `cause` for `$disconnect` and sends the close frame after what the client still has
    /// to read (see ``Outbox/close(with:)``).
    func close(_ connection: LocalConnection, cause: CloseCause) {
        connections.markClosing(connection.id, cause: cause)
        connection.outbox.close(with: cause.frame())
    }

    /// Sends a text frame to a connected client.
    /// - Returns: `.closed` when it is not connected (or closing), `.full` when its buffer is full.
    @discardableResult
    func send(_ text: ByteBuffer, to id: String) -> Outbox.Offer {
        guard let connection = connections.get(id) else { return .closed }
        let offer = connection.outbox.offer(WebSocketFrame(fin: true, opcode: .text, data: text))
        if offer == .queued { connections.touch(id, at: configuration.clock.now()) }
        return offer
    }

    @discardableResult
    func send(_ text: String, to id: String) -> Outbox.Offer { send(ByteBuffer(string: text), to: id) }
}

/// Why the gateway could not start or serve.
public struct LocalGatewayError: Error, CustomStringConvertible {
    private enum Code {
        case unreadableStateFile(path: String, reason: String)
        case unwritableStateFile(path: String, reason: String)
        case unreadableSecret(String)
        case unreadableDeclaration(path: String, reason: String)
    }

    private let code: Code

    /// The state file exists but does not decode; it is left as it is.
    static func unreadableStateFile(_ path: String, reason: String) -> Self { Self(code: .unreadableStateFile(path: path, reason: reason)) }

    /// The state file could not be saved.
    static func unwritableStateFile(_ path: String, reason: String) -> Self { Self(code: .unwritableStateFile(path: path, reason: reason)) }

    /// A `--declare` file that cannot be read or does not decode.
    static func unreadableDeclaration(_ path: String, reason: String) -> Self {
        Self(code: .unreadableDeclaration(path: path, reason: reason))
    }

    /// The signing secret the command line names cannot be had.
    static func unreadableSecret(_ reason: String) -> Self { Self(code: .unreadableSecret(reason)) }

    public var description: String {
        switch code {
        case .unreadableSecret(let reason): reason
        case .unreadableDeclaration(let path, let reason):
            "the declaration \(path) cannot be used: \(reason). Its format: {\"apis\":[{\"apiId\":\"chatlocal\",\"stages\":[\"local\"],\"routes\":{\"$connect\":\"http://127.0.0.1:8080/ws/connect\"}}]}"
        case .unreadableStateFile(let path, let reason):
            "the state file \(path) does not decode (\(reason)); it was left untouched: fix or move it, then start again"
        case .unwritableStateFile(let path, let reason):
            "the state file \(path) could not be saved: \(reason)"
        }
    }
}

/// The path and query of a request target, in origin form (`/a/b?c`) or absolute form
/// (`ws://host/a/b?c`, as a client talking through a proxy sends it).
func splitURI(_ uri: String) -> (path: String, query: String?) {
    var target = Substring(uri)
    if !target.hasPrefix("/"), let split = URLSplit(target) {
        target = split.rest.isEmpty ? "/" : split.rest
    }
    guard let mark = target.firstIndex(of: "?") else { return (String(target), nil) }
    return (String(target[..<mark]), String(target[target.index(after: mark)...]))
}

/// Messages with the backend, counted so that shutdown waits for them and turns new ones away.
private struct MessageGate {
    var draining = false
    var inFlight = 0
    /// The drain waiting for `inFlight` to reach 0.
    var drained: CheckedContinuation<Void, Never>?
    /// The drain timed out or was cancelled: nothing waits any more.
    var drainAbandoned = false

    mutating func takeDrained() -> CheckedContinuation<Void, Never>? {
        defer { drained = nil }
        return drained
    }
}
