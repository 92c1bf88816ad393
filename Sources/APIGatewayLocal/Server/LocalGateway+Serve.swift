import APIGatewayAWS
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// What a TCP connection became once its first request was read.
enum Negotiated: Sendable {
    /// An upgraded connection, its frames read by a ``HeldConnectionHandler`` not yet started.
    case webSocket(any Channel)
    case http(NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>)
}

/// The steps of a connection's handshake, delivered to the connection's own task: the upgrade
/// request, whose answer (the headers, or `nil` to refuse) the task decides by running
/// `$connect`, and then what the connection became.
enum HandshakeEvent: Sendable {
    case upgradeRequested(HTTPRequestHead, EventLoopPromise<HTTPHeaders?>)
    case negotiated(Result<Negotiated, any Error>)
}

/// A TCP connection just accepted, with the stream of its handshake.
struct AcceptedChannel: Sendable {
    let channel: any Channel
    let handshake: AsyncStream<HandshakeEvent>
    /// Set when NIO's frame decoder refuses what the client sent.
    let frameError: FrameErrorBox
    /// The first request's head, as the parser gave it (NIO's upgrader swallows some).
    let firstHead: FirstHeadBox
}

/// What `$connect` decided for one upgrade.
enum HandshakeDecision: Sendable {
    case accepted(EventContext, headers: HTTPHeaders)
    case refused(HTTPResponseStatus)

    var refusal: HTTPResponseStatus? {
        if case .refused(let status) = self { status } else { nil }
    }
}

extension LocalGateway {
    static let idleHandlerName = "apigw.idle"
    static let observerName = "apigw.first-head"

    /// Loads the state file, then binds.
    func bind() async throws -> NIOAsyncChannel<AcceptedChannel, Never> {
        try state.load()
        let configuration = self.configuration
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Start reads small: a held connection keeps its last read buffer (1.6 KB a connection
            // saved at 10,000, measured); the allocator grows for clients that send more.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536))
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture { try Self.configure(channel, configuration) }
            }
        logger.info("local gateway listening", metadata: ["apigw.address": "\(listener.channel.localAddress.map { "\($0)" } ?? "?")"])
        return listener
    }

    /// The pipeline of one accepted connection: HTTP/1.1 with bounded heads, a WebSocket upgrader
    /// whose decision the connection's task makes, and an idle cut for connections that send
    /// nothing (removed once upgraded: WebSockets have their own idle timeout).
    private static func configure(_ channel: any Channel, _ configuration: LocalGatewayConfiguration) throws -> AcceptedChannel {
        let (handshake, events) = AsyncStream<HandshakeEvent>.makeStream()
        let frameError = FrameErrorBox()
        let upgrader = NIOTypedWebSocketServerUpgrader<Negotiated>(
            maxFrameSize: configuration.maximumFrameSize,
            enableAutomaticErrorHandling: false,
            shouldUpgrade: { channel, head in
                let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
                events.yield(.upgradeRequested(head, promise))
                return promise.futureResult
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    channel.pipeline.syncOperations.removeHandler(name: Self.idleHandlerName).whenFailure { _ in }
                    channel.pipeline.syncOperations.removeHandler(name: Self.observerName).whenFailure { _ in }
                    try channel.pipeline.syncOperations.addHandler(FrameErrorCloser(frameError))
                    try channel.pipeline.syncOperations.addHandler(
                        HeldConnectionHandler(
                            maximumMessageSize: configuration.maximumMessageSize,
                            maximumConcurrentMessages: configuration.maximumConcurrentMessages, frameError: frameError))
                    return .webSocket(channel)
                }
            }
        )
        var pipeline = NIOUpgradableHTTPServerPipelineConfiguration(
            upgradeConfiguration: NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture { .http(try NIOAsyncChannel(wrappingChannelSynchronously: channel)) }
                }
            )
        )
        pipeline.decoderConfiguration.maxHeaderListSize = configuration.maximumHeaderSize
        pipeline.decoderConfiguration.maxHeaderFieldSize = configuration.maximumHeaderSize
        pipeline.decoderConfiguration.maxHeaderFieldCount = configuration.maximumHeaderCount
        try channel.pipeline.syncOperations.addHandler(IdleCut(after: configuration.handshakeTimeout), name: Self.idleHandlerName)
        let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
        let firstHead = FirstHeadBox()
        let upgradeHandler = try channel.pipeline.syncOperations.handler(type: NIOTypedHTTPServerUpgradeHandler<Negotiated>.self)
        try channel.pipeline.syncOperations.addHandler(
            FirstHeadObserver(firstHead), name: Self.observerName, position: .before(upgradeHandler))
        negotiated.whenComplete { result in
            events.yield(.negotiated(result))
            events.finish()
        }
        return AcceptedChannel(channel: channel, handshake: handshake, frameError: frameError, firstHead: firstHead)
    }

    /// Accepts connections until the listener closes, each handshake in its own task, and runs
    /// what held connections hand over (their messages, their `$disconnect`s) as tasks of its own;
    /// returns once every connection has ended and had its `$disconnect`. The idle sweep runs
    /// beside them.
    func serve(_ listener: NIOAsyncChannel<AcceptedChannel, Never>) async throws {
        await withThrowingTaskGroup(of: Void.self) { sweeper in
            sweeper.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: self.configuration.sweepInterval)
                    self.sweep()
                }
            }
            await withDiscardingTaskGroup { group in
                group.addTask {
                    await withDiscardingTaskGroup { handshakes in
                        try? await listener.executeThenClose { inbound in
                            for try await accepted in inbound {
                                handshakes.addTask { await self.serveConnection(accepted) }
                            }
                        }
                    }
                    self.held.acceptingEnded()
                }
                group.addTask {
                    // A client that leaves does not cancel its messages (API Gateway lets the
                    // backend answer); shutdown does, once every connection has gone.
                    await withDiscardingTaskGroup { messages in
                        for await message in self.held.messages {
                            messages.addTask {
                                await self.receive(message.text, on: message.connection)
                                self.endMessage()
                                message.answered()
                            }
                        }
                        messages.cancelAll()
                    }
                }
                for await ended in held.ended {
                    group.addTask {
                        await self.disconnect(ended.context, cause: ended.cause)
                        self.held.disconnected()
                    }
                }
            }
            sweeper.cancelAll()
        }
    }

    /// One TCP connection's handshake: a WebSocket it accepts is then held by its channel's
    /// handlers, with no task of its own; a plain HTTP connection is served here to its end.
    @inline(never)
    private func serveConnection(_ accepted: AcceptedChannel) async {
        let open = openChannels.wrappingAdd(1, ordering: .relaxed).newValue
        let overCapacity = open > configuration.maximumConnections || isStopping
        let token = plainChannels.add(accepted.channel)
        defer { plainChannels.remove(token) }
        guard let (channel, context) = await handshake(accepted, token: token, overCapacity: overCapacity) else {
            openChannels.wrappingSubtract(1, ordering: .relaxed)
            return
        }
        // A held connection counts until its socket closes.
        channel.closeFuture.whenComplete { _ in self.openChannels.wrappingSubtract(1, ordering: .relaxed) }
        plainChannels.remove(token)
        // Only `$connect` reads the client's headers and query; a held connection keeps neither.
        accepted.firstHead.clear()
        var held = context
        held.clientHeaders = []
        held.clientQuery = nil
        hold(channel, context: held, frameError: accepted.frameError)
    }

    /// Reads the handshake to its end: answers what is not an accepted WebSocket (refusals, HTTP
    /// requests, malformed upgrades) and hands back the one that is.
    @inline(never)
    private func handshake(_ accepted: AcceptedChannel, token: Int, overCapacity: Bool) async -> (any Channel, EventContext)? {
        let sourceIp = accepted.channel.remoteAddress?.ipAddress ?? "127.0.0.1"
        var decision: HandshakeDecision?
        var upgradeRequest: HTTPRequestHead?
        for await event in accepted.handshake {
            switch event {
            case .upgradeRequested(let head, let promise):
                upgradeRequest = head
                plainChannels.setBusy(token, true)
                let decided: HandshakeDecision =
                    overCapacity
                    ? .refused(.tooManyRequests) : await decideConnect(head: head, sourceIp: sourceIp)
                decision = decided
                if case .accepted(_, let headers) = decided { promise.succeed(headers) } else { promise.succeed(nil) }
            case .negotiated(.success(.webSocket(let channel))):
                guard case .accepted(let context, _) = decision else {
                    try? await channel.close()
                    return nil
                }
                return (channel, context)
            case .negotiated(.success(.http(let channel))):
                if let head = upgradeRequest, let refusal = decision?.refusal {
                    // NIO's upgrader consumed the refused request; answer it here.
                    await answer(LocalResponse(status: refusal), to: head, on: channel)
                } else if let head = accepted.firstHead.head, head.headers.contains(name: "Upgrade") {
                    // NIO's WebSocket upgrader refused it (no key, a version other than 13) and
                    // swallowed it: AWS answers such a handshake 400.
                    await answer(.awsError(.badRequest, "BadRequestException", "Invalid WebSocket handshake"), to: head, on: channel)
                } else {
                    await serveHTTP(channel, overCapacity: overCapacity, token: token)
                }
            case .negotiated(.failure(let error)):
                // The client went away before the handshake finished. API Gateway sends
                // `$disconnect` for every connect its backend accepted.
                if error is HTTPParserError {
                    accepted.channel.close(promise: nil)  // NIO's error handler has answered 400
                } else {
                    // NIO's upgrader gave up on the request without an answer (a body on an
                    // upgrade request): AWS answers 400.
                    Self.answerBadRequest(upgradeRequest?.version ?? .http1_1, on: accepted.channel)
                }
                if case .accepted(let context, _) = decision {
                    logger.debug("client left during $connect", metadata: ["apigw.connection.id": "\(context.connectionId)"])
                    await disconnect(context, cause: .abnormal)
                }
            }
        }
        return nil
    }

    /// Answers one request and closes.
    @inline(never)
    private func answer(
        _ response: LocalResponse, to head: HTTPRequestHead, on channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    ) async {
        try? await channel.executeThenClose { _, outbound in try await write(response, for: head, to: outbound, close: true) }
    }

    // MARK: $connect

    /// Decides an upgrade request as API Gateway does: its own guards, then the `$connect`
    /// integration; the stage's access log, if it keeps one, gets the outcome.
    @inline(never)  // an async frame is sized for everything inlined into it: keep the held one small
    private func decideConnect(head: HTTPRequestHead, sourceIp: String) async -> HandshakeDecision {
        guard head.uri.utf8.count <= configuration.maximumURILength else { return .refused(.uriTooLong) }
        let (path, query) = splitURI(head.uri)
        let parts = path.split(separator: "/").map(String.init)
        guard let (api, stage, rest) = resolve(host: head.headers.first(name: "Host"), parts: parts), rest.isEmpty else {
            return .refused(.forbidden)
        }
        guard limits.admitConnect() else { return .refused(.tooManyRequests) }
        let now = configuration.clock.now()
        var context = EventContext(
            api: api, stage: stage, routeKey: "$connect", eventType: "CONNECT", connectionId: makeConnectionID(), connectedAt: now,
            requestId: makeRequestID(), sourceIp: sourceIp, userAgent: head.headers.first(name: "User-Agent"),
            domainName: head.headers.first(name: "Host").map(Self.hostName) ?? configuration.host, requestTime: now,
            clientHeaders: head.headers.map { ($0.name, $0.value) }, clientQuery: configuration.forwardsConnectQuery ? query : nil
        )
        var record = AccessRecord(status: 200)
        let decision = await admit(head, &context, &record)
        if let format = api.stages[stage]?.accessLogSettings?.format {
            if case .refused(let status) = decision { record.status = Int(status.code) }
            accessLog.write(AccessLogWriter.render(format) { context.logValue($0, record) })
        }
        return decision
    }

    /// What API Gateway checks before the backend hears of a connect, in its order: the route's
    /// throttle, its authorization (`AWS_IAM` or a `CUSTOM` authorizer), its API key and the key's
    /// usage plan; then the `$connect` integration decides.
    private func admit(_ head: HTTPRequestHead, _ context: inout EventContext, _ record: inout AccessRecord) async -> HandshakeDecision {
        let api = context.api
        guard let route = api.route("$connect") else { return .accepted(context, headers: HTTPHeaders()) }  // optional on AWS
        func refuse(_ status: HTTPResponseStatus, _ message: String, _ type: String) -> HandshakeDecision {
            record.errorMessage = message
            record.responseType = type
            return .refused(status)
        }
        guard throttles.admit(api, stage: api.stages[context.stage], named: context.stage, routeKey: route.routeKey) else {
            return refuse(.tooManyRequests, "Too Many Requests", "THROTTLED")
        }
        switch route.authorizationType ?? "NONE" {
        case "AWS_IAM":
            switch verifyIAM(head) {
            case .success(let credential):
                context.identity = ConnectionIdentity(
                    accessKey: credential.accessKeyID, userArn: "arn:aws:iam::\(configuration.accountID):user/\(credential.accessKeyID)",
                    accountId: configuration.accountID)
            case .failure(let rejection):
                logger.debug("IAM $connect refused", metadata: ["apigw.reason": "\(rejection)"])
                return refuse(.forbidden, rejection.message, "INVALID_SIGNATURE")
            }
        case "CUSTOM":
            guard let authorizer = route.authorizerId.flatMap({ api.authorizers?[$0] }) else {
                return refuse(.internalServerError, "Internal server error", "API_CONFIGURATION_ERROR")
            }
            let started = ContinuousClock.now
            let verdict = await AuthorizerCaller(
                client: integrationClient, cache: authorizerCache, configuration: configuration, functions: authorizerFunctions.withLock { $0 })
                .authorize(authorizer, context: context, headers: head.headers)
            record.authorizerLatency = Self.milliseconds(since: started)
            switch verdict {
            case .allow(let identity):
                record.authorizerStatus = 200
                context.identity = identity
            case .deny:
                record.authorizerStatus = 403
                return refuse(.forbidden, "User is not authorized to access this resource with an explicit deny", "ACCESS_DENIED")
            case .unauthorized:
                record.authorizerStatus = 401
                return refuse(.unauthorized, "Unauthorized", "UNAUTHORIZED")
            case .failed(let reason):
                record.authorizerStatus = 500
                logger.debug("authorizer failed", metadata: ["apigw.reason": "\(reason)"])
                return refuse(.internalServerError, "Internal server error", "AUTHORIZER_CONFIGURATION_ERROR")
            }
        default:
            break
        }
        if route.apiKeyRequired == true {
            let presented = presentedAPIKey(api, head, context.identity)
            guard let presented, let (key, plan) = usagePlan(forKey: presented, apiId: api.apiId, stage: context.stage) else {
                return refuse(.forbidden, "Forbidden", "INVALID_API_KEY")
            }
            switch usagePlanMeter.admit(key.id, under: plan) {
            case .admitted: context.identity = (context.identity ?? ConnectionIdentity()).with(apiKey: key)
            case .throttled: return refuse(.tooManyRequests, "Too Many Requests", "THROTTLED")
            case .quotaExceeded: return refuse(.tooManyRequests, "Limit Exceeded", "QUOTA_EXCEEDED")
            }
        }
        guard let integration = api.integration(for: route) else {
            return refuse(.internalServerError, "Internal server error", "API_CONFIGURATION_ERROR")
        }
        let started = ContinuousClock.now
        let outcome = await IntegrationCaller(client: integrationClient).call(integration, context: context, body: nil)
        record.integrationLatency = Self.milliseconds(since: started)
        switch outcome {
        case .response(let status, let headers, _) where (200..<300).contains(status):
            record.integrationStatus = status
            var answer = HTTPHeaders()
            if let protocolName = headers.first(name: "Sec-WebSocket-Protocol") {
                answer.add(name: "Sec-WebSocket-Protocol", value: protocolName)
            }
            return .accepted(context, headers: answer)
        case .response(let status, _, _):
            record.integrationStatus = status
            return .refused(HTTPResponseStatus(statusCode: status))
        case .timedOut:
            return refuse(.gatewayTimeout, "Endpoint request timed out", "INTEGRATION_TIMEOUT")
        case .unreachable(let reason):
            logger.debug("$connect integration unreachable", metadata: ["apigw.error": "\(reason)"])
            return refuse(.badGateway, "Internal server error", "INTEGRATION_FAILURE")
        }
    }

    /// An `AWS_IAM` connect's signature: presigned in the query (a browser cannot set headers),
    /// or in an `Authorization` header; for `execute-api`, with one of the gateway's keys.
    private func verifyIAM(_ head: HTTPRequestHead) -> Result<Credential, SigV4Verifier.Rejection> {
        if head.headers.contains(name: "Authorization") {
            return verifier.verify(
                method: head.method.rawValue, uri: head.uri, headers: head.headers, body: EmptyCollection(), service: "execute-api")
        }
        return verifier.presignedProblem(method: head.method.rawValue, uri: head.uri, headers: head.headers, service: "execute-api")
    }

    /// The key the API's `apiKeySelectionExpression` picks: a request header
    /// (`$request.header.x-api-key`), or the authorizer's `usageIdentifierKey`.
    private func presentedAPIKey(_ api: LocalAPI, _ head: HTTPRequestHead, _ identity: ConnectionIdentity?) -> String? {
        let expression = api.apiKeySelectionExpression ?? "$request.header.x-api-key"
        if expression == "$context.authorizer.usageIdentifierKey" { return identity?.usageIdentifierKey }
        guard expression.hasPrefix("$request.header.") else { return nil }
        return head.headers.first(name: String(expression.dropFirst("$request.header.".count))).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The enabled key with `value` and the usage plan that meters it on this API's stage.
    private func usagePlan(forKey value: String, apiId: String, stage: String) -> (LocalAPIKey, LocalUsagePlan)? {
        state.read { held in
            guard let key = held.apiKeys.values.first(where: { ConstantTime.equals($0.value, value) }), key.enabled,
                let plan = held.usagePlans.values.sorted(by: { $0.id < $1.id })
                    .first(where: { $0.keyIds.contains(key.id) && $0.covers(apiId: apiId, stage: stage) })
            else { return nil }
            return (key, plan)
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        let elapsed = ContinuousClock.now - start
        return Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
    }

    // MARK: WebSocket

    /// Holds one accepted connection: registers it and starts its channel's
    /// ``HeldConnectionHandler``, which reads its frames from then on; what goes to the client is
    /// written through its outbox. When the channel goes, the handler hands its `$disconnect` over.
    private func hold(_ channel: any Channel, context: EventContext, frameError: FrameErrorBox) {
        let outbox = Outbox(limit: configuration.outboundBufferLimit, closeTimeout: configuration.closeTimeout, channel: channel)
        let connection = LocalConnection(
            id: context.connectionId, apiId: context.api.apiId, stage: context.stage, channel: channel, outbox: outbox,
            connectedAt: context.connectedAt, lastActiveAt: context.connectedAt, sourceIp: context.sourceIp,
            userAgent: context.userAgent, domainName: context.domainName, identity: context.identity
        )
        connections.add(connection)
        held.hold()
        if isStopping { close(connection, cause: .shuttingDown) }
        let holder = HeldConnectionHandler.Holder(gateway: self, connection: connection, context: context)
        channel.eventLoop.execute {
            if let handler = try? channel.pipeline.syncOperations.handler(type: HeldConnectionHandler.self) {
                handler.start(holder)
            } else {
                // The channel went before it was held (its handlers are gone).
                self.end(connection, context: context, clientCause: .abnormal, frameError: frameError)
            }
        }
    }

    /// A held connection's channel has gone: it leaves the registry, and its `$disconnect`, with
    /// the cause noted for it (a frame NIO's decoder refused, a close the gateway decided, else
    /// the client's), is handed over.
    func end(_ connection: LocalConnection, context: EventContext, clientCause: CloseCause, frameError: FrameErrorBox) {
        if let cause = frameError.cause { connections.markClosing(connection.id, cause: cause) }
        connection.outbox.finish()
        guard let (_, cause) = connections.remove(connection.id, fallback: clientCause) else { return held.disconnected() }
        var ended = context
        ended.requestTime = configuration.clock.now()
        held.end(EndedConnection(context: ended, cause: cause))
    }

    // MARK: Messages and $disconnect

    /// Routes one complete text message and answers the client as API Gateway would.
    @inline(never)  // an async frame is sized for everything inlined into it: keep the held one small
    private func receive(_ text: ByteBuffer, on connection: LocalConnection) async {
        guard let api = api(connection.apiId) else { return }
        let id = connection.id
        let now = configuration.clock.now()
        let selected = RouteSelection.evaluate(api.routeSelectionExpression, body: text)
        let requestId = makeRequestID()
        let route: LocalRoute? =
            if let selected, !selected.hasPrefix("$"), let route = api.route(selected) { route } else { api.route("$default") }
        guard let route, let integration = api.integration(for: route) else {
            send(ErrorFrame.forbidden.text(connectionId: id, requestId: requestId), to: id)
            return
        }
        var context = EventContext(
            api: api, stage: connection.stage, routeKey: route.routeKey, eventType: "MESSAGE", connectionId: id,
            connectedAt: connection.connectedAt, requestId: requestId, messageId: makeRequestID(), sourceIp: connection.sourceIp,
            userAgent: connection.userAgent, domainName: connection.domainName, requestTime: now
        )
        context.identity = connection.identity
        let stage = api.stages[connection.stage]
        let logFormat = stage?.accessLogSettings?.format
        var record = AccessRecord(status: 200)
        defer {
            if let logFormat { accessLog.write(AccessLogWriter.render(logFormat) { context.logValue($0, record) }) }
        }
        // The route's throttle, under the account's (shared with `@connections` calls).
        guard throttles.admit(api, stage: stage, named: connection.stage, routeKey: route.routeKey), limits.admitCallback() else {
            record = AccessRecord(status: 429, errorMessage: "Too Many Requests", responseType: "THROTTLED")
            send(ErrorFrame.tooManyRequests.text(connectionId: id, requestId: requestId), to: id)
            return
        }
        let twoWay = api.isTwoWay(route, expressionEnablesTwoWay: configuration.expressionEnablesTwoWay)
        let started = logFormat == nil ? nil : ContinuousClock.now
        let outcome = await IntegrationCaller(client: integrationClient).call(integration, context: context, body: text)
        record.integrationLatency = started.map(Self.milliseconds(since:))
        switch outcome {
        case .response(let status, _, _) where status >= 500:
            record.status = 500
            record.integrationStatus = status
            record.errorMessage = "Internal server error"
            record.responseType = "INTEGRATION_FAILURE"
            send(ErrorFrame.internalServerError.text(connectionId: id, requestId: requestId), to: id)
        case .response(let status, _, let answer):
            record.status = status
            record.integrationStatus = status
            if twoWay && answer.readableBytes > 0, case .queued = send(answer, to: id) {
                responsesDelivered.add(1, ordering: .relaxed)
            }
        case .timedOut:
            record = AccessRecord(status: 504, errorMessage: "Endpoint request timed out", responseType: "INTEGRATION_TIMEOUT")
            send(ErrorFrame.timedOut.text(connectionId: id, requestId: requestId), to: id)
        case .unreachable(let reason):
            logger.debug("message integration unreachable", metadata: ["apigw.error": "\(reason)"])
            record = AccessRecord(status: 500, errorMessage: "Internal server error", responseType: "INTEGRATION_FAILURE")
            send(ErrorFrame.internalServerError.text(connectionId: id, requestId: requestId), to: id)
        }
    }

    /// Calls `$disconnect` for a connection that has gone, with why it went.
    @inline(never)  // an async frame is sized for everything inlined into it: keep the held one small
    func disconnect(_ context: EventContext, cause: CloseCause) async {
        guard let api = api(context.api.apiId), let route = api.route("$disconnect"), let integration = api.integration(for: route) else {
            return
        }
        var event = context
        event.api = api
        event.routeKey = "$disconnect"
        event.eventType = "DISCONNECT"
        event.requestId = makeRequestID()
        event.messageId = nil
        event.clientHeaders = []
        event.clientQuery = nil
        event.disconnect = cause
        let outcome = await IntegrationCaller(client: integrationClient).call(integration, context: event, body: nil)
        if let format = api.stages[event.stage]?.accessLogSettings?.format {
            var record = AccessRecord(status: 200)
            switch outcome {
            case .response(let status, _, _):
                record.status = status
                record.integrationStatus = status
            case .timedOut: record = AccessRecord(status: 504, errorMessage: "Endpoint request timed out", responseType: "INTEGRATION_TIMEOUT")
            case .unreachable: record = AccessRecord(status: 500, errorMessage: "Internal server error", responseType: "INTEGRATION_FAILURE")
            }
            accessLog.write(AccessLogWriter.render(format) { event.logValue($0, record) })
        }
    }

    // MARK: HTTP

    /// Answers plain HTTP requests one after another on a keep-alive connection: `@connections`,
    /// the control plane, and the answer to a refused upgrade.
    @inline(never)  // an async frame is sized for everything inlined into it: keep the held one small
    private func serveHTTP(_ channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, overCapacity: Bool, token: Int) async
    {
        do {
            try await channel.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                for try await part in inbound {
                    switch part {
                    case .head(let next):
                        plainChannels.setBusy(token, true)
                        head = next
                        body.clear()
                        let declared = next.headers.first(name: "Content-Length").flatMap(Int.init) ?? 0
                        if declared > configuration.maximumRequestBodySize {
                            try await write(.tooLarge(limit: configuration.maximumRequestBodySize), for: next, to: outbound, close: true)
                            return
                        }
                    case .body(var chunk):
                        guard let request = head else { continue }
                        guard body.readableBytes + chunk.readableBytes <= configuration.maximumRequestBodySize else {
                            try await write(.tooLarge(limit: configuration.maximumRequestBodySize), for: request, to: outbound, close: true)
                            return
                        }
                        body.writeBuffer(&chunk)
                    case .end:
                        guard let request = head else { continue }
                        head = nil
                        if overCapacity {
                            try await write(
                                .awsError(
                                    .serviceUnavailable, "ServiceUnavailableException", "The local gateway is at its connection limit"),
                                for: request, to: outbound, close: true)
                            return
                        }
                        let response: LocalResponse =
                            if request.uri.utf8.count > configuration.maximumURILength {
                                .awsError(.uriTooLong, "BadRequestException", "Request-URI Too Long")
                            } else {
                                await handleHTTP(head: request, body: body, remote: channel.channel.remoteAddress?.ipAddress)
                            }
                        let close = !request.isKeepAlive || isStopping
                        try await write(response, for: request, to: outbound, close: close)
                        if close { return }
                        plainChannels.setBusy(token, false)
                        if isStopping { return }
                    }
                }
            }
        } catch {
            logger.trace("HTTP connection ended", metadata: ["apigw.error": "\(error)"])
        }
    }

    /// A 400 written straight to the pipeline, for a request NIO's upgrader dropped, then a close.
    /// Only while the pipeline still speaks HTTP: an upgrade that went ahead anyway gets the close alone.
    private static func answerBadRequest(_ version: HTTPVersion, on channel: any Channel) {
        channel.eventLoop.execute {
            let operations = channel.pipeline.syncOperations
            guard channel.isActive, (try? operations.handler(type: HTTPResponseEncoder.self)) != nil,
                (try? operations.handler(type: WebSocketFrameEncoder.self)) == nil
            else {
                channel.close(promise: nil)
                return
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "0")
            headers.add(name: "Connection", value: "close")
            let head = HTTPResponseHead(version: version, status: .badRequest, headers: headers)
            channel.write(HTTPServerResponsePart.head(head), promise: nil)
            channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    private func write(
        _ response: LocalResponse, for head: HTTPRequestHead, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
        close: Bool
    ) async throws {
        var headers = response.headers
        headers.replaceOrAdd(name: "Content-Length", value: "\(response.body.readableBytes)")
        if close { headers.replaceOrAdd(name: "Connection", value: "close") }
        try await outbound.write(
            contentsOf: [
                .head(HTTPResponseHead(version: head.version, status: response.status, headers: headers)),
                .body(.byteBuffer(response.body)),
                .end(nil),
            ])
    }
}

/// Closes a connection that reads nothing for `after`: a handshake that never comes, an idle
/// keep-alive connection. Removed when a connection upgrades.
final class IdleCut: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?

    init(after: Duration) { timeout = TimeAmount(after) }

    func handlerAdded(context: ChannelHandlerContext) { if context.channel.isActive { arm(context) } }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        arm(context)
        context.fireChannelRead(data)
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }
}

/// The first request head a connection sent.
final class FirstHeadBox: Sendable {
    private let value = Mutex<HTTPRequestHead?>(nil)
    var head: HTTPRequestHead? { value.withLock { $0 } }
    func record(_ head: HTTPRequestHead) { value.withLock { if $0 == nil { $0 = head } } }
    func clear() { value.withLock { $0 = nil } }
}

/// Notes the first request head before NIO's upgrader sees it.
final class FirstHeadObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let box: FirstHeadBox
    private var seen = false

    init(_ box: FirstHeadBox) { self.box = box }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !seen, case .head(let head) = unwrapInboundIn(data) {
            seen = true
            box.record(head)
        }
        context.fireChannelRead(data)
    }
}

/// What NIO's frame decoder refused, for the connection's `$disconnect`.
final class FrameErrorBox: Sendable {
    private let value = Mutex<CloseCause?>(nil)
    var cause: CloseCause? { value.withLock { $0 } }
    func record(_ cause: CloseCause) { value.withLock { if $0 == nil { $0 = cause } } }
}

/// Answers a frame NIO's decoder refuses (too large, a fragmented or long control frame) with the
/// close code RFC 6455 gives it, records why, and closes.
final class FrameErrorCloser: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let box: FrameErrorBox

    init(_ box: FrameErrorBox) { self.box = box }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? NIOWebSocketError else { return context.fireErrorCaught(error) }
        let cause: CloseCause = error == .invalidFrameLength ? .tooBig : .protocolError
        box.record(cause)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(cause.frame())).whenComplete { _ in channel.close(promise: nil) }
    }
}
