public import APIGatewayAWS
public import Foundation
import HTTPTypes
public import Logging
import Metrics
import NIOCore
import Synchronization
import Tracing

/// Turns API Gateway's integration requests into checked, tracked, dispatched events.
///
/// Register controllers, mount the returned ``Endpoint``s on your HTTP server (the Vapor module
/// does it for you), and hand each request to ``handle(_:at:)``:
///
/// ```swift
/// let dispatcher = GatewayDispatcher(configuration: configuration, store: store, gateways: directory, poster: poster)
/// for endpoint in try dispatcher.register(ChatController()) {
///     server.post(endpoint.route.path) { request in await dispatcher.handle(request, at: endpoint) }
/// }
/// ```
///
/// Every event passes the guards in order (the first failure answers, see the README's refusal
/// table), then: a connect runs the `$default` controller's connect hook and records the session;
/// a message loads and touches the live session and runs the selected handler; a disconnect
/// marks the session disconnected and runs the disconnect hook.
public final class GatewayDispatcher: Sendable {
    public let configuration: GatewayConfiguration
    public let store: any ConnectionStore
    /// Tokens and rate-limit hits; the session store when it is one too (both built-in stores are).
    public let identity: (any IdentityStore)?
    /// The app's permissions, for ``Requirement``s; `nil`: nobody holds any.
    public let permissions: (any PermissionSource)?
    /// Joins, leaves and presence under the configured rules.
    public let channels: Channels
    /// The app's login states, cached briefly; `nil`: a connection is not tied to its login's state.
    private let authStates: AuthStateCache?
    public let gateways: any GatewayDirectory
    public let messenger: Messenger
    public let logger: Logger
    private let now: @Sendable () -> Date
    private let table = Mutex<[Endpoint]>([])
    private let metrics: EventMetrics

    /// - Parameters:
    ///   - now: the clock sessions are stamped with; injectable for tests.
    public init(
        configuration: GatewayConfiguration = GatewayConfiguration(),
        store: any ConnectionStore,
        gateways: any GatewayDirectory,
        poster: any ConnectionPoster,
        identity: (any IdentityStore)? = nil,
        permissions: (any PermissionSource)? = nil,
        channelRules: (any ChannelRuleStore)? = nil,
        authState: (any AuthStateSource)? = nil,
        logger: Logger = .disabled,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.configuration = configuration
        self.store = store
        self.identity = identity ?? (store as? any IdentityStore)
        self.permissions = permissions
        self.gateways = gateways
        self.messenger = Messenger(store: store, poster: poster, logger: logger, now: now)
        self.channels = Channels(
            configuration: configuration.channels, store: store, rules: channelRules ?? (store as? any ChannelRuleStore),
            permissions: permissions, gateways: gateways, messenger: messenger)
        self.authStates = authState.map { AuthStateCache(source: $0, lifetime: configuration.authStateLifetime) }
        self.logger = logger
        self.now = now
        self.metrics = EventMetrics()
        if configuration.secrets.isEmpty {
            logger.warning("no gateway secret configured: any caller that knows a registered API id is accepted")
        }
    }

    /// Every URL registered so far, in registration order.
    public var routes: [RegisteredRoute] { table.withLock { $0.map(\.route) } }

    /// Whether any registered controller or handler requires a user or a permission (so a user
    /// must come from somewhere: a login, a token, or a connect hook).
    public var requiresUsers: Bool {
        table.withLock { endpoints in
            endpoints.contains { endpoint in
                let controller = endpoint.controller
                return controller.requirement != nil || controller.connectRequirement != nil || !controller.handlers.requirements.isEmpty
            }
        }
    }

    /// The endpoint served at `path` (a trailing slash does not matter), if any.
    public func endpoint(at path: String) -> Endpoint? {
        let key = pathKey(normalizedPath(path))
        return table.withLock { $0.first { pathKey($0.route.path) == key } }
    }

    /// Registers `controller` and returns the endpoints to mount.
    ///
    /// The `$default` controller is served at the base path as `/{base}/connect`,
    /// `/{base}/disconnect` and `/{base}/default`. A custom route's controller is served at
    /// `path`, by default `/{base}/{routeKey}`.
    /// - Throws: ``RegistrationError`` when the route key or the path is already registered.
    public func register(_ controller: some WebSocketController, at path: String? = nil) throws -> [Endpoint] {
        let registered = RegisteredController(controller)
        let base = normalizedPath(configuration.basePath)
        let prefix = base == "/" ? "" : base
        let routes: [RegisteredRoute]
        if controller.routeKey == .default {
            if path != nil {
                throw RegistrationError.pathForDefault
            }
            routes = [
                RegisteredRoute(routeKey: .connect, path: prefix + "/connect", event: .connect),
                RegisteredRoute(routeKey: .disconnect, path: prefix + "/disconnect", event: .disconnect),
                RegisteredRoute(routeKey: .default, path: prefix + "/default", event: .message),
            ]
        } else if controller.routeKey.isReserved {
            throw RegistrationError.reservedKey(controller.routeKey)
        } else {
            routes = [
                RegisteredRoute(
                    routeKey: controller.routeKey, path: normalizedPath(path ?? prefix + "/" + controller.routeKey.rawValue),
                    event: .message)
            ]
        }
        let endpoints = routes.map { Endpoint(route: $0, controller: registered) }
        try table.withLock { table in
            for route in routes {
                if let clash = table.first(where: { $0.route.routeKey == route.routeKey || pathKey($0.route.path) == pathKey(route.path) })
                {
                    throw RegistrationError.taken(route, by: clash.route)
                }
            }
            table.append(contentsOf: endpoints)
        }
        return endpoints
    }

    /// Checks, tracks and dispatches one integration request. Never throws: every failure is an
    /// answer with a status and a reason.
    public func handle(_ request: GatewayRequest, at endpoint: Endpoint) async -> GatewayResponse {
        // The event's span continues API Gateway's trace; its id is in every log line of the event.
        var context = ServiceContext.current ?? .topLevel
        let trace = request.headerFields.first(.amznTraceID).flatMap(AmazonTraceID.init)
        // On `$connect` the other headers are the client's own (API Gateway forwards them): there
        // only API Gateway's trace id is trusted.
        let trusted = endpoint.route.event != .connect
        InstrumentationSystem.instrument.extract(request, into: &context, using: TraceHeaders(amazon: trace, readsHeaders: trusted))
        return await withSpan(metrics.spanName(of: endpoint.route), context: context, ofKind: .server) { span in
            let response = await handle(request, at: endpoint, trace: trace)
            span.attributes["http.response.status_code"] = response.status.code
            if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
            return response
        }
    }

    private func handle(_ request: GatewayRequest, at endpoint: Endpoint, trace: AmazonTraceID?) async -> GatewayResponse {
        let event = endpoint.route.event
        let started = ContinuousClock.now
        var logger = self.logger
        logger[metadataKey: "apigw.route.key"] = "\(endpoint.route.routeKey)"
        logger[metadataKey: "apigw.event"] = "\(event)"
        if let trace { logger[metadataKey: "apigw.trace.id"] = "\(trace.root)" }
        let response: GatewayResponse
        // Labelled by API only once the API is known to be registered: an unknown id is not a label.
        var api = "unknown"
        do {
            let checked = try await check(request, event: event, endpoint: endpoint, logger: &logger)
            api = checked.gateway.apiID.rawValue
            do {
                switch event {
                case .connect: response = try await connect(request, checked, endpoint, logger)
                case .disconnect: response = try await disconnect(request, checked, endpoint, logger)
                default: response = try await message(request, checked, endpoint, logger)
                }
            } catch let error as MessagingError where error.isPayloadTooLarge {
                throw Refusal.replyTooLarge(error)  // a handler's payload, not a server failure
            }
            metrics.record(event, endpoint.route.routeKey, api: api, outcome: "handled", since: started)
        } catch let refusal as Refusal {
            logger.debug(
                "refused",
                metadata: [
                    "apigw.refusal": "\(refusal.code)", "apigw.status": "\(refusal.status.code)", "apigw.detail": "\(LogValue(refusal.detail))",
                ])
            metrics.record(event, endpoint.route.routeKey, api: api, outcome: refusal.code.rawValue, since: started)
            return GatewayResponse(refusal: refusal)
        } catch let failure as StoreFailure {
            // The database is down or overloaded: a fast 503 (API Gateway may retry), never a hang.
            logger.error(
                "store failed",
                metadata: ["apigw.operation": "\(failure.operation)", "apigw.error": "\(LogValue(String(reflecting: failure.underlying)))"])
            metrics.record(event, endpoint.route.routeKey, api: api, outcome: Refusal.Code.storeUnavailable.rawValue, since: started)
            return GatewayResponse(refusal: Refusal.storeUnavailable)
        } catch {
            logger.error("event failed", metadata: ["apigw.error": "\(LogValue(String(reflecting: error)))"])
            metrics.record(event, endpoint.route.routeKey, api: api, outcome: "failed", since: started)
            return GatewayResponse(refusal: Refusal(status: .internalServerError, reason: "Internal server error"))
        }
        return response
    }

    // MARK: Logins

    /// Closes every connection that came from the web session `webSessionID`, and revokes the
    /// connection tokens it was issued and has not used: call it when that login logs out (or is
    /// replaced by a new one). See ``closeConnections(of:)``.
    @discardableResult
    public func closeConnections(ofWebSession webSessionID: String) async throws -> Int {
        guard !webSessionID.isEmpty else { return 0 }
        let hash = ConnectionTokens.hash(webSessionID)
        // Its unused tokens first: a token fetched before the logout would otherwise open a socket
        // bound to a web session no later logout can name.
        if let identity { _ = try await identity.revokeTokens(ofWebSession: hash) }
        return try await closeConnections(of: .webSession(hash: hash))
    }

    /// Whether `user`'s login still holds: the app's ``AuthStateSource`` knows the user, and the
    /// state the login was made with (``AuthenticatedUser/authStateHash``, when it kept one) is the
    /// current one. Every door that trusts a login asks this: `$connect`, the token endpoint, an
    /// admin page. Without an ``AuthStateSource`` every login holds.
    /// - Throws: the store's error when the app's state cannot be read.
    public func loginHolds(_ user: AuthenticatedUser) async throws -> Bool {
        guard let authStates else { return true }
        guard let current = try await metrics.store("login state", { try await authStates.hash(ofUser: user.id) }) else { return false }
        return user.authStateHash.map { $0 == current } ?? true
    }

    /// Closes every connection of `userID`, on every API: call it when the user's password
    /// changes or the account is deactivated, so no socket outlives the login it was opened with.
    @discardableResult
    public func closeConnections(ofUser userID: String) async throws -> Int {
        authStates?.forget(userID)
        return try await closeConnections(of: .user(userID))
    }

    /// Closes `owner`'s connections through `@connections` DELETE; API Gateway then sends each
    /// `$disconnect`, which marks the session and runs the disconnect hook as for any close. A
    /// connection already gone is marked here, since no `$disconnect` will come. One failed close
    /// does not stop the others. Returns how many were closed.
    @discardableResult
    public func closeConnections(of owner: SessionOwner) async throws -> Int {
        let sessions = try await store.connectedSessions(of: owner)
        var closed = 0
        for session in sessions {
            guard let gateway = try await gateways.gateway(session.apiID) else { continue }
            do {
                if try await messenger.poster.close(session.connectionID, on: gateway) == .gone {
                    _ = try await store.markGone([session.connectionID], apiID: session.apiID, at: now())
                }
                closed += 1
            } catch {
                logger.warning(
                    "could not close a connection", metadata: ["apigw.connection.id": "\(session.connectionID)", "apigw.error": "\(error)"])
            }
        }
        logger.debug("closed connections", metadata: ["apigw.closed": "\(closed)"])
        return closed
    }

    // MARK: Guards

    private struct Checked {
        let connectionID: ConnectionID
        let gateway: GatewayRecord
    }

    /// The guards shared by every event, in the documented order.
    private func check(_ request: GatewayRequest, event: EventKind, endpoint: Endpoint, logger: inout Logger) async throws -> Checked {
        let headers = request.headerFields
        // 1. The gateway secret.
        if !configuration.secrets.isEmpty {
            let presented = headers.first(configuration.secretHeader)
            guard let presented, configuration.matchesSecret(presented) else {
                throw Refusal.gatewaySecret(present: presented != nil)
            }
        }
        // 2. Required headers, then a registered API (and the controller's pin).
        guard let rawConnectionID = headers.first(.connectionID), !rawConnectionID.isEmpty else {
            throw Refusal.missingHeader(.connectionID)
        }
        guard let rawAPIID = headers.first(.apiGatewayAPIID), !rawAPIID.isEmpty else { throw Refusal.missingHeader(.apiGatewayAPIID) }
        for name in configuration.requiredHeaders(event) {
            guard let value = headers.first(name), !value.isEmpty else { throw Refusal.missingHeader(name) }
        }
        guard let apiID = try? APIID(rawAPIID), let gateway = try await metrics.store("gateway", { try await gateways.gateway(apiID) })
        else {
            throw Refusal.unknownAPI(rawAPIID)
        }
        if let pinned = endpoint.controller.controller.pinnedAPI, pinned != apiID {
            throw Refusal.apiNotAllowed(apiID, route: endpoint.route.routeKey)
        }
        // 3. Body size, then a well-formed connection id.
        guard request.body.readableBytes <= configuration.maxBodySize else {
            throw Refusal.bodyTooLarge(request.body.readableBytes, limit: configuration.maxBodySize)
        }
        let connectionID: ConnectionID
        do { connectionID = try ConnectionID(rawConnectionID) } catch let error as IdentifierError {
            throw Refusal.invalidConnectionID(error)
        }
        logger[metadataKey: "apigw.connection.id"] = "\(connectionID)"
        logger[metadataKey: "apigw.api.id"] = "\(apiID)"
        return Checked(connectionID: connectionID, gateway: gateway)
    }

    // MARK: Events

    private func connect(_ request: GatewayRequest, _ checked: Checked, _ endpoint: Endpoint, _ logger: Logger) async throws
        -> GatewayResponse
    {
        // 4. Origin first: a handshake a foreign page opens from a visitor's browser is refused
        // before it counts, so it cannot spend the connect budget of everyone behind that address.
        // Browsers always send `Origin` on a WebSocket handshake, so a missing one is a client that
        // is not a browser (a token, or no login): only a connect the login cookie vouches for
        // must come from an allowed page.
        if !configuration.allowedOrigins.isEmpty {
            if let origin = request.headerFields[.origin] {  // two values join, and match no origin
                guard configuration.allows(origin: origin) else { throw Refusal.originNotAllowed(origin) }
            } else if request.authenticatedUser != nil {
                throw Refusal.originNotAllowed(nil)
            }
        }
        // 5. The client address's connect rate, before anything costs more; then the channel name.
        if let limit = configuration.connectRateLimits.perAddress,
            let address = request.clientAddress(behindProxies: configuration.trustedProxies)
        {
            try await countConnect("address \(RateLimitKey.address(address))", limit)
        }
        var requestedChannel: ChannelName?
        if let requested = request.queryParameter("channel") {
            do { requestedChannel = try ChannelName(requested) } catch let error as IdentifierError { throw Refusal.invalidChannel(error) }
        }
        // 6. A one-time token, when the client brings one: looked at here, used only once every
        // other check has passed (a refused connect does not spend it), refused if unknown.
        let tokenHash = request.queryParameter(configuration.tokenParameter).map(ConnectionTokens.hash)
        var token: ConnectionToken?
        if let tokenHash {
            guard let identity, let found = try await metrics.store("token", { try await identity.token(hash: tokenHash, at: now()) })
            else {
                throw Refusal.invalidToken
            }
            token = found
        }
        let tokenUserID = token?.userID
        let context = ConnectContext(
            request: request, connectionID: checked.connectionID, gateway: checked.gateway,
            requestedChannel: requestedChannel ?? checked.gateway.defaultChannel,
            tokenUserID: tokenUserID, logger: logger
        )
        let decision = try await endpoint.controller.controller.connect(context)
        let userID: String?
        let channel: ChannelName?
        switch decision.kind {
        case .reject(let refusal): throw refusal
        case .accept(let chosen, let user):
            // A channel the hook or the gateway chose is the app's word; the client's is checked below.
            channel = chosen ?? requestedChannel ?? checked.gateway.defaultChannel
            // The hook's word, else the login's, else the token's.
            userID = user ?? request.authenticatedUser?.id ?? tokenUserID
        }
        // 7. The user's connect rate, once the user is known; then who may connect at all.
        if let limit = configuration.connectRateLimits.perUser, let userID { try await countConnect("user \(userID)", limit) }
        if let requirement = endpoint.controller.connectRequirement {
            try await requirement.check(userID, source: permissions, what: "connecting")
        }
        // 8. The channel's rules, unless the hook chose the channel; then the login's state, which
        // must be the one the login (or the token's login) was made with, when the app kept it.
        if let channel, decision.chosenChannel == nil {
            try await metrics.store("channel rule") {
                try await channels.check(channel, connection: checked.connectionID, apiID: checked.gateway.apiID, userID: userID)
            }
        }
        var authStateHash: String?
        if let authStates, let userID {
            guard let hash = try await metrics.store("login state", { try await authStates.hash(ofUser: userID) }) else {
                throw Refusal.loginExpired(userID: userID)
            }
            let login = request.authenticatedUser
            let loggedInWith = login?.id == userID ? login?.authStateHash : token?.userID == userID ? token?.authStateHash : nil
            if let loggedInWith, loggedInWith != hash { throw Refusal.loginExpired(userID: userID) }
            authStateHash = hash
        }
        let date = now()
        // The login the connection came from: the authenticated web session, else the token's.
        let webSessionHash =
            request.authenticatedUser?.webSessionID.map(ConnectionTokens.hash)
            ?? token.flatMap { $0.sessionHash.isEmpty ? nil : $0.sessionHash }
        let session = Session(
            connectionID: checked.connectionID, apiID: checked.gateway.apiID, stage: checked.gateway.stage,
            userID: userID, webSessionHash: webSessionHash, authStateHash: authStateHash, createdAt: date
        )
        // The token is used now, in one statement: of concurrent connects with it, one gets here.
        if let tokenHash, try await metrics.store("consume token", { try await identity?.consumeToken(hash: tokenHash, at: date) }) == nil {
            throw Refusal.invalidToken
        }
        let outcome = try await metrics.store("connect") { try await store.connect(session, joining: channel) }
        if outcome == .alreadyClosed { throw Refusal.connectionClosed(checked.connectionID) }
        logger.debug(outcome == .retried ? "connect retried" : "connected", metadata: ["apigw.channel": "\(channel?.rawValue ?? "")"])
        return .ok
    }

    /// Counts one connect for `key` in its sliding window, or refuses it 429.
    private func countConnect(_ key: String, _ limit: GatewayConfiguration.RateLimit) async throws {
        guard let identity else { return }
        guard
            try await metrics.store(
                "hit", { try await identity.hit("connect " + key, at: now(), window: limit.window, limit: limit.limit) })
        else {
            throw Refusal.rateLimited(key, limit)
        }
    }

    private func disconnect(_ request: GatewayRequest, _ checked: Checked, _ endpoint: Endpoint, _ logger: Logger) async throws
        -> GatewayResponse
    {
        let session = try await metrics.store("session") { try await store.session(checked.connectionID) }
        let wasConnected = try await metrics.store("disconnect") {
            try await store.disconnect(checked.connectionID, apiID: checked.gateway.apiID, at: now())
        }
        // The hook runs once per connected session: not for an id never connected on this API,
        // nor for a repeated `$disconnect`.
        guard wasConnected else {
            logger.debug("disconnect for a connection not connected")
            return .ok
        }
        logger.debug("disconnected")
        if let session { await channels.announceDeparture(of: session) }
        let context = DisconnectContext(
            request: request, connectionID: checked.connectionID, gateway: checked.gateway,
            session: session, messenger: messenger, logger: logger
        )
        try await endpoint.controller.controller.disconnect(context)
        return .ok
    }

    private func message(_ request: GatewayRequest, _ checked: Checked, _ endpoint: Endpoint, _ logger: Logger) async throws
        -> GatewayResponse
    {
        // 5. A live session on this API.
        guard
            let session = try await metrics.store(
                "touch", { try await store.touch(checked.connectionID, apiID: checked.gateway.apiID, at: now()) })
        else {
            throw Refusal.noLiveSession(checked.connectionID, apiID: checked.gateway.apiID)
        }
        // 6. The login the connection opened with still holds (no password change, no deactivation).
        // A session with a user and no recorded state (opened before the app kept states) fails it.
        if let authStates, let userID = session.userID,
            try await metrics.store("login state", { try await authStates.hash(ofUser: userID) }).map({ $0 != session.authStateHash })
                ?? true
        {
            await close(session, on: checked.gateway, logger)
            throw Refusal.loginExpired(userID: userID)
        }
        let selector = HandlerSelector(request.body)
        var answered: AnswerMark?
        do {
            // The heartbeat, answered here unless the app registered a handler of its name.
            if let heartbeat = configuration.heartbeatAction, selector.handler == nil, selector.action == heartbeat,
                !endpoint.controller.handlers.has(heartbeat)
            {
                try await answer(try Payload(json: Pong()), to: session, under: selector.id, on: checked.gateway)
                return .ok
            }
            guard let (name, handler) = endpoint.controller.handlers.select(selector) else {
                throw Refusal.noHandler(selector.handler ?? selector.action, route: endpoint.route.routeKey)
            }
            // 7. Who may send it: the controller's requirement, then the handler's.
            if let requirement = endpoint.controller.requirement {
                try await requirement.check(session.userID, source: permissions, what: "route \(endpoint.route.routeKey)")
            }
            if let requirement = endpoint.controller.handlers.requirements[name] {
                try await requirement.check(session.userID, source: permissions, what: "route \(endpoint.route.routeKey) handler \(name)")
            }
            let context = MessageContext(
                request: request, session: session, gateway: checked.gateway, routeKey: endpoint.route.routeKey,
                handlerName: name, requestID: selector.id, answered: selector.id.map { _ in AnswerMark() }, messenger: messenger,
                channels: channels, logger: logger
            )
            answered = context.answered
            let (timer, span) = metrics.handler(endpoint.route.routeKey, name)
            let handled = ContinuousClock.now
            defer { timer.recordInterval(since: handled) }
            try await withSpan(span, ofKind: .internal) { _ in try await handler(request.body, context) }
            return .ok
        } catch {
            // A message with an id hears why it was refused, under that id, unless it was answered.
            if let id = selector.id, answered?.isMarked != true {
                let refusal =
                    (error as? Refusal) ?? (error as? MessagingError).flatMap { $0.isPayloadTooLarge ? Refusal.replyTooLarge($0) : nil }
                let problem = RequestProblem(status: refusal?.status.code ?? 500, reason: refusal?.reason ?? "Internal server error")
                do { try await answer(try Payload(json: problem), to: session, under: id, on: checked.gateway) } catch {
                    logger.debug("the refusal could not be answered to its sender", metadata: ["apigw.error": "\(error)"])
                }
            }
            throw error
        }
    }

    private struct Pong: Encodable { let type = "pong" }

    /// What a refused message with an id is answered: `{"id": …, "type": "error", "status": 403,
    /// "reason": "Permission denied"}`.
    private struct RequestProblem: Encodable {
        let type = "error"
        let status: Int
        let reason: String
    }

    private func answer(_ payload: Payload, to session: Session, under id: String?, on gateway: GatewayRecord) async throws {
        _ = try await messenger.send(
            try id.map { try payload.answering($0) } ?? payload, to: .connection(session.connectionID), on: gateway)
    }
}

extension GatewayDispatcher {
    /// Closes `session`'s connection through `@connections` DELETE (API Gateway then sends its
    /// `$disconnect`); one already gone is marked here. A failure is logged, not thrown: the
    /// refusal that called for the close is the answer either way.
    fileprivate func close(_ session: Session, on gateway: GatewayRecord, _ logger: Logger) async {
        do {
            if try await messenger.poster.close(session.connectionID, on: gateway) == .gone {
                _ = try await store.markGone([session.connectionID], apiID: session.apiID, at: now())
            }
        } catch {
            logger.warning("could not close a connection", metadata: ["apigw.error": "\(error)"])
        }
    }
}

/// Reads trace context from an event's headers for the tracer: the headers themselves (whatever
/// propagation the tracer uses), and a W3C `traceparent` made from API Gateway's
/// `X-Amzn-Trace-Id` when the request has none.
struct TraceHeaders: Extractor {
    let amazon: AmazonTraceID?
    /// Whether the request's own headers may carry trace context (not on `$connect`).
    let readsHeaders: Bool

    func extract(key: String, from request: GatewayRequest) -> String? {
        if readsHeaders, let name = HTTPField.Name(key), let value = request.headerFields[name] { return value }
        return key.lowercased() == "traceparent" ? amazon?.traceparent : nil
    }
}

/// The event path's metrics, each made once per set of labels and kept:
/// `apigw_events_total{api, event, route, outcome}` (`handled`, `failed`, or the refusal's code),
/// `apigw_event_duration_seconds{event}`, `apigw_handler_duration_seconds{route, handler}` and
/// `apigw_store_duration_seconds{operation}`.
final class EventMetrics: Sendable {
    private struct EventKey: Hashable {
        let api: String
        let event: EventKind
        let route: RouteKey
        let outcome: String
    }

    private struct HandlerKey: Hashable {
        let route: RouteKey
        let handler: String
    }

    private static let events = [EventKind.connect, .message, .disconnect]
    /// Made once per label set, so an event allocates no metric, label or span name.
    private let counters = Mutex<[EventKey: Counter]>([:])
    private let eventTimers = events.map { Metrics.Timer(label: "apigw_event_duration_seconds", dimensions: [("event", "\($0)")]) }
    private let eventNames = events.map { "\($0)" }
    private let routeSpans = Mutex<[RouteKey: String]>([:])
    private let handlers = Mutex<[HandlerKey: (timer: Metrics.Timer, span: String)]>([:])
    private let operations = Mutex<[String: (timer: Metrics.Timer, span: String)]>([:])

    func record(_ event: EventKind, _ route: RouteKey, api: String, outcome: String, since started: ContinuousClock.Instant) {
        let key = EventKey(api: api, event: event, route: route, outcome: outcome)
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "apigw_events_total",
                dimensions: [("api", api), ("event", eventNames[event.index]), ("route", route.rawValue), ("outcome", outcome)])
            counters[key] = counter
            return counter
        }
        counter.increment()
        eventTimers[event.index].recordInterval(since: started)
    }

    /// The span name of an event on `route`: `apigw <event> <route key>`.
    func spanName(of route: RegisteredRoute) -> String {
        routeSpans.withLock { names in
            if let name = names[route.routeKey] { return name }
            let name = "apigw \(route.event) \(route.routeKey)"
            names[route.routeKey] = name
            return name
        }
    }

    /// `apigw_handler_duration_seconds{route, handler}` and the handler's span name.
    func handler(_ route: RouteKey, _ name: String) -> (timer: Metrics.Timer, span: String) {
        handlers.withLock { handlers in
            let key = HandlerKey(route: route, handler: name)
            if let made = handlers[key] { return made }
            let made = (
                Metrics.Timer(label: "apigw_handler_duration_seconds", dimensions: [("route", route.rawValue), ("handler", name)]),
                "handler \(name)"
            )
            handlers[key] = made
            return made
        }
    }

    /// Times `body` on `apigw_store_duration_seconds{operation}`, in a span of its own; a failure
    /// of the store is a ``StoreFailure`` (answered 503).
    func store<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        let (timer, span) = operations.withLock { operations in
            if let made = operations[operation] { return made }
            let made = (Metrics.Timer(label: "apigw_store_duration_seconds", dimensions: [("operation", operation)]), "store \(operation)")
            operations[operation] = made
            return made
        }
        let started = ContinuousClock.now
        defer { timer.recordInterval(since: started) }
        do {
            return try await withSpan(span, ofKind: .client) { _ in try await body() }
        } catch let refusal as Refusal {
            throw refusal
        } catch let error where StoreFailure.isOurs(error) {
            throw error  // a fault of this side (cancelled, undecodable, misconfigured): a 500, not a retry
        } catch {
            throw StoreFailure(operation: operation, underlying: error)
        }
    }
}

/// The store could not do `operation`: the database is down, unreachable or out of connections.
struct StoreFailure: Error {
    let operation: String
    let underlying: any Error

    /// Errors that say this side is wrong, not that the database is away: they stay 500s.
    static func isOurs(_ error: any Error) -> Bool {
        error is CancellationError || error is DecodingError || error is IdentifierError || error is EncodingError
    }
}

extension Metrics.Timer {
    fileprivate func recordInterval(since started: ContinuousClock.Instant) {
        let elapsed = started.duration(to: .now)
        let (seconds, attoseconds) = elapsed.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
