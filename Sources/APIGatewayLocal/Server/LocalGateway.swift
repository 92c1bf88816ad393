import APIGatewayAWS
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
/// (`http://host:port/{apiId}/{stage}/@connections/{id}`), as AWS serves both from one host.
/// `$connect` is called before the handshake completes, messages are routed by the API's route
/// selection expression, `$disconnect` follows every close, and `@connections` requests must be
/// signed with SigV4 by one of the configured credentials.
///
/// ```swift
/// let gateway = LocalGateway(configuration: .init(port: 0, apis: declaration.localAPIs()))
/// try await gateway.start()
/// print(gateway.port)
/// ```
/// or run it as a `Service` in a `ServiceGroup`.
public final class LocalGateway: Service, Sendable {
    public let configuration: LocalGatewayConfiguration
    let logger: Logger
    let connections = ConnectionRegistry()
    private let held: Mutex<Held>
    private let integrationClient: HTTPClient
    private let pendingConnects = Mutex<[ObjectIdentifier: PendingConnect]>([:])
    private let channel = Mutex<(any Channel)?>(nil)
    let verifier: SigV4Verifier
    /// `$disconnect` calls under way; ``stop()`` waits for them.
    let pendingDisconnects = Atomic<Int>(0)

    /// The APIs and custom domains, saved together in the state file.
    struct Held: Codable, Sendable {
        var apis: [String: LocalAPI]
        var domainNames: [String: LocalDomainName] = [:]
    }

    /// What `$connect` decided, carried from the handshake check to the upgraded pipeline or the
    /// HTTP handler that answers a refusal.
    struct PendingConnect: Sendable {
        var context: EventContext?
        var refusal: Int?
    }

    public init(configuration: LocalGatewayConfiguration = LocalGatewayConfiguration(), logger: Logger = Logger(label: "apigw.local")) {
        self.configuration = configuration
        self.logger = logger
        var held = Held(apis: Dictionary(configuration.apis.map { ($0.apiId, $0) }, uniquingKeysWith: { _, last in last }))
        if let file = configuration.stateFile, let saved = try? Self.load(file) {
            held.apis.merge(saved.apis) { _, saved in saved }
            held.domainNames = saved.domainNames
        }
        self.held = Mutex(held)
        var client = HTTPClient.Configuration()
        client.connectionPool.retryConnectionEstablishment = false
        client.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        client.decompression = .disabled
        self.integrationClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: client)
        self.verifier = SigV4Verifier(credentials: configuration.credentials)
    }

    static let httpHandlerName = "apigw.http"

    /// The port the gateway listens on, once started.
    public var port: Int? { channel.withLock { $0?.localAddress?.port } }

    /// The APIs it serves.
    public var currentAPIs: [LocalAPI] { held.withLock { Array($0.apis.values) } }

    /// The custom domains it serves.
    public var currentDomainNames: [LocalDomainName] { held.withLock { Array($0.domainNames.values) } }

    /// How many clients are connected.
    public var connectionCount: Int { connections.count }

    func api(_ id: String) -> LocalAPI? { held.withLock { $0.apis[id] } }

    /// The API and stage a request addresses, and the path segments after them: by a custom
    /// domain's mapping when `host` is one, else by `/{apiId}/{stage}`.
    func resolve(host: String?, parts: [String]) -> (api: LocalAPI, stage: String, rest: ArraySlice<String>)? {
        held.withLock { held in
            if let host, let domain = held.domainNames[Self.hostName(host)] {
                guard let (mapping, rest) = domain.mapping(for: parts), let api = held.apis[mapping.apiId], api.stages[mapping.stage] != nil
                else {
                    return nil
                }
                return (api, mapping.stage, rest)
            }
            guard parts.count >= 2, let api = held.apis[parts[0]], api.stages[parts[1]] != nil else { return nil }
            return (api, parts[1], parts.dropFirst(2))
        }
    }

    /// `ws.example.com:8081` → `ws.example.com`, lower-cased; `[::1]:8081` → `[::1]`.
    static func hostName(_ host: String) -> String {
        let lowered = host.lowercased()
        if lowered.hasPrefix("[") { return String(lowered.prefix { $0 != "]" }) + "]" }
        return String(lowered.prefix { $0 != ":" })
    }

    /// Serves `api` (replacing one with the same id), persisting it in the state file if any.
    public func register(_ api: LocalAPI) {
        updateAPIs { $0[api.apiId] = api }
    }

    func updateAPIs<T>(_ body: (inout [String: LocalAPI]) throws -> T) rethrows -> T {
        try updateHeld { try body(&$0.apis) }
    }

    func updateDomainNames<T>(_ body: (inout [String: LocalDomainName]) throws -> T) rethrows -> T {
        try updateHeld { try body(&$0.domainNames) }
    }

    private func updateHeld<T>(_ body: (inout Held) throws -> T) rethrows -> T {
        let (result, snapshot) = try held.withLock { held in (try body(&held), held) }
        if let file = configuration.stateFile { try? Self.save(snapshot, to: file) }
        return result
    }

    // MARK: Lifecycle

    /// Binds the port and starts serving.
    public func start() async throws {
        let gateway = self
        let bound = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let upgrader = NIOWebSocketServerUpgrader(
                    maxFrameSize: gateway.configuration.maximumFrameSize,
                    automaticErrorHandling: true,
                    shouldUpgrade: { channel, head in gateway.shouldUpgrade(channel: channel, head: head) },
                    upgradePipelineHandler: { channel, head in gateway.upgraded(channel: channel, head: head) }
                )
                return channel.pipeline.configureHTTPServerPipeline(
                    withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                ).flatMap {
                    channel.pipeline.addHandler(HTTPRequestHandler(gateway: gateway), name: Self.httpHandlerName)
                }
            }
            .bind(host: configuration.host, port: configuration.port).get()
        channel.withLock { $0 = bound }
        logger.info("local gateway listening", metadata: ["apigw.address": "\(bound.localAddress.map { "\($0)" } ?? "?")"])
    }

    /// Closes every connection and waits (up to 10 s) for their `$disconnect` calls, then the listener.
    public func stop() async throws {
        for connection in connections.all { close(connection.id, cause: .idle) }
        let deadline = ContinuousClock.now + .seconds(10)
        while (connections.count > 0 || pendingDisconnects.load(ordering: .acquiring) > 0) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        try await channel.withLock { $0 }?.close()
        try await integrationClient.shutdown()
    }

    /// Serves until the service group shuts down, checking idle and maximum-duration limits.
    public func run() async throws {
        try await start()
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                try? await Task.sleep(for: configuration.sweepInterval)
                sweep()
            }
        } onGracefulShutdown: {
        }
        try await stop()
    }

    /// Closes connections idle for longer than `idleTimeout` or older than
    /// `maximumConnectionDuration` (both 1001), by the configured clock.
    public func sweep() {
        let now = configuration.clock.now()
        for connection in connections.all {
            if now.timeIntervalSince(connection.connectedAt) >= configuration.maximumConnectionDuration.seconds {
                close(connection.id, cause: .maximumDuration)
            } else if now.timeIntervalSince(connection.lastActiveAt) >= configuration.idleTimeout.seconds {
                close(connection.id, cause: .idle)
            }
        }
    }

    /// Sends a close frame with `cause` and closes; `$disconnect` follows when the channel goes.
    func close(_ id: String, cause: CloseCause) {
        guard let connection = connections.get(id) else { return }
        connections.markClosing(id, cause: cause)
        var data = connection.channel.allocator.buffer(capacity: 2 + cause.reason.utf8.count)
        data.write(webSocketErrorCode: WebSocketErrorCode(codeNumber: cause.code))
        data.writeString(cause.reason)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        let channel = connection.channel
        channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
    }

    // MARK: $connect

    /// Runs the `$connect` integration before the handshake; a refusal is answered by the HTTP handler.
    private func shouldUpgrade(channel: any Channel, head: HTTPRequestHead) -> EventLoopFuture<HTTPHeaders?> {
        let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
        let key = ObjectIdentifier(channel)
        let remote = channel.remoteAddress?.ipAddress ?? "127.0.0.1"
        promise.completeWithTask {
            let (decision, headers) = await self.decideConnect(head: head, sourceIp: remote)
            self.pendingConnects.withLock { $0[key] = decision }
            return headers
        }
        return promise.futureResult
    }

    private func decideConnect(head: HTTPRequestHead, sourceIp: String) async -> (PendingConnect, HTTPHeaders?) {
        let (path, query) = splitURI(head.uri)
        let parts = path.split(separator: "/").map(String.init)
        guard let (api, stage, rest) = resolve(host: head.headers.first(name: "Host"), parts: parts), rest.isEmpty else {
            return (PendingConnect(refusal: 403), nil)
        }
        let now = configuration.clock.now()
        let context = EventContext(
            api: api, stage: stage, routeKey: "$connect", eventType: "CONNECT", connectionId: makeConnectionID(), connectedAt: now,
            requestId: makeRequestID(), sourceIp: sourceIp, userAgent: head.headers.first(name: "User-Agent"),
            domainName: head.headers.first(name: "Host").map(Self.hostName) ?? configuration.host, requestTime: now,
            clientHeaders: head.headers.map { ($0.name, $0.value) }, clientQuery: configuration.forwardsConnectQuery ? query : nil
        )
        guard let route = api.route("$connect") else { return (PendingConnect(context: context), HTTPHeaders()) }  // optional on AWS
        guard let integration = api.integration(for: route) else { return (PendingConnect(refusal: 500), nil) }
        switch await IntegrationCaller(client: integrationClient).call(integration, context: context, body: nil) {
        case .response(let status, let headers, _) where (200..<300).contains(status):
            var answer = HTTPHeaders()
            if let protocolName = headers.first(name: "Sec-WebSocket-Protocol") {
                answer.add(name: "Sec-WebSocket-Protocol", value: protocolName)
            }
            return (PendingConnect(context: context), answer)
        case .response(let status, _, _):
            return (PendingConnect(refusal: status), nil)
        case .timedOut:
            return (PendingConnect(refusal: 504), nil)
        case .unreachable(let reason):
            logger.debug("$connect integration unreachable", metadata: ["apigw.error": "\(reason)"])
            return (PendingConnect(refusal: 502), nil)
        }
    }

    /// The refusal decided for this channel's handshake, if any (taken once).
    func takeRefusal(for channel: any Channel) -> Int? {
        pendingConnects.withLock { $0.removeValue(forKey: ObjectIdentifier(channel))?.refusal }
    }

    private func upgraded(channel: any Channel, head: HTTPRequestHead) -> EventLoopFuture<Void> {
        guard let context = pendingConnects.withLock({ $0.removeValue(forKey: ObjectIdentifier(channel))?.context }) else {
            return channel.close()
        }
        let connection = LocalConnection(
            id: context.connectionId, apiId: context.api.apiId, stage: context.stage, channel: channel, connectedAt: context.connectedAt,
            lastActiveAt: context.connectedAt, sourceIp: context.sourceIp, userAgent: context.userAgent, domainName: context.domainName
        )
        connections.add(connection)
        // The upgrader removes NIO's HTTP handlers; ours goes too, the WebSocket handler takes its place.
        let logger = self.logger
        return channel.pipeline.removeHandler(name: Self.httpHandlerName).flatMap {
            channel.pipeline.addHandler(WebSocketConnectionHandler(gateway: self, connectionID: connection.id))
        }.flatMapErrorThrowing { error in
            logger.error("upgrade failed", metadata: ["apigw.error": "\(error)"])
            throw error
        }
    }

    // MARK: Messages and $disconnect

    /// Routes one complete text message and answers the client as API Gateway would.
    func receive(_ text: ByteBuffer, from id: String) async {
        guard let connection = connections.get(id), let api = api(connection.apiId) else { return }
        let now = configuration.clock.now()
        connections.touch(id, at: now)
        let body = Data(text.readableBytesView)
        let selected = RouteSelection.evaluate(api.routeSelectionExpression, body: body)
        let requestId = makeRequestID()
        let route: LocalRoute? =
            if let selected, !selected.hasPrefix("$"), let route = api.route(selected) { route } else { api.route("$default") }
        guard let route, let integration = api.integration(for: route) else {
            send(errorFrame("Forbidden", connectionId: id, requestId: requestId), to: id)
            return
        }
        let context = EventContext(
            api: api, stage: connection.stage, routeKey: route.routeKey, eventType: "MESSAGE", connectionId: id,
            connectedAt: connection.connectedAt, requestId: requestId, messageId: makeRequestID(), sourceIp: connection.sourceIp,
            userAgent: connection.userAgent, domainName: connection.domainName, requestTime: now
        )
        let twoWay = api.isTwoWay(route, expressionEnablesTwoWay: configuration.expressionEnablesTwoWay)
        switch await IntegrationCaller(client: integrationClient).call(integration, context: context, body: text) {
        case .response(let status, _, _) where status >= 500:
            send(errorFrame("Internal server error", connectionId: id, requestId: requestId), to: id)
        case .response(_, _, let answer):
            if twoWay && answer.readableBytes > 0 { send(String(buffer: answer), to: id) }
        case .timedOut:
            send(errorFrame("Endpoint request timed out", connectionId: id, requestId: requestId), to: id)
        case .unreachable(let reason):
            logger.debug("message integration unreachable", metadata: ["apigw.error": "\(reason)"])
            send(errorFrame("Internal server error", connectionId: id, requestId: requestId), to: id)
        }
    }

    /// Sends a text frame to a connected client; `false` when it is not connected.
    @discardableResult
    func send(_ text: String, to id: String) -> Bool {
        guard let connection = connections.get(id) else { return false }
        connections.touch(id, at: configuration.clock.now())
        var buffer = connection.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        connection.channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: buffer), promise: nil)
        return true
    }

    /// The channel of `id` has closed: forget it and call `$disconnect`.
    func closed(_ id: String, clientCause: CloseCause) async {
        guard let (connection, cause) = connections.remove(id, fallback: clientCause), let api = api(connection.apiId) else { return }
        guard let route = api.route("$disconnect"), let integration = api.integration(for: route) else { return }
        let now = configuration.clock.now()
        let context = EventContext(
            api: api, stage: connection.stage, routeKey: "$disconnect", eventType: "DISCONNECT", connectionId: id,
            connectedAt: connection.connectedAt, requestId: makeRequestID(), sourceIp: connection.sourceIp, userAgent: connection.userAgent,
            domainName: connection.domainName, requestTime: now, disconnect: cause
        )
        _ = await IntegrationCaller(client: integrationClient).call(integration, context: context, body: nil)
    }

    // MARK: State file

    /// The saved state: `{"apis": […], "domainNames": […]}`, or the bare API array of earlier versions.
    static func load(_ file: String) throws -> Held {
        guard FileManager.default.fileExists(atPath: file) else { return Held(apis: [:]) }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        let saved: SavedState
        if let state = try? decoder.decode(SavedState.self, from: data) {
            saved = state
        } else {
            saved = SavedState(apis: try decoder.decode([LocalAPI].self, from: data), domainNames: [])
        }
        return Held(
            apis: Dictionary(saved.apis.map { ($0.apiId, $0) }, uniquingKeysWith: { _, last in last }),
            domainNames: Dictionary(saved.domainNames.map { ($0.domainName, $0) }, uniquingKeysWith: { _, last in last })
        )
    }

    static func save(_ held: Held, to file: String) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let state = SavedState(
            apis: held.apis.values.sorted { $0.apiId < $1.apiId },
            domainNames: held.domainNames.values.sorted { $0.domainName < $1.domainName })
        try encoder.encode(state).write(to: URL(fileURLWithPath: file), options: .atomic)
    }

    private struct SavedState: Codable {
        var apis: [LocalAPI]
        var domainNames: [LocalDomainName]
    }
}

/// The path and query of a request target, in origin form (`/a/b?c`) or absolute form
/// (`ws://host/a/b?c`, as a client talking through a proxy sends it).
func splitURI(_ uri: String) -> (path: String, query: String?) {
    var target = Substring(uri)
    if !target.hasPrefix("/"), let scheme = target.range(of: "://") {
        let authority = target[scheme.upperBound...]
        target = authority.firstIndex(where: { $0 == "/" || $0 == "?" }).map { authority[$0...] } ?? "/"
    }
    guard let mark = target.firstIndex(of: "?") else { return (String(target), nil) }
    return (String(target[..<mark]), String(target[target.index(after: mark)...]))
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
