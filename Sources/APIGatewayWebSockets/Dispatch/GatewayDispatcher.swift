public import APIGatewayAWS
public import Foundation
import HTTPTypes
public import Logging
import NIOCore
import Tracing

/// Turns API Gateway's integration requests into checked, tracked, dispatched events.
///
/// Register controllers, mount the returned ``Endpoint``s on your HTTP server (the Vapor and
/// Hummingbird doors do it for you), and hand each request to ``handle(_:at:)``:
///
/// ```swift
/// let dispatcher = GatewayDispatcher(configuration: configuration, store: store, gateways: directory, poster: poster)
/// for endpoint in try dispatcher.register(ChatController()) {
///     server.post(endpoint.route.path) { request in await dispatcher.handle(request, at: endpoint) }
/// }
/// ```
///
/// Where each part lives: the route table in `Routing/RouteTable.swift`; the guards, numbered as
/// `Docs/Refusals.md` numbers them, in `Guards/GuardChain.swift`; the three event flows in
/// `GatewayDispatcher+Connect.swift`, `+Message.swift` and `+Disconnect.swift`; what ends a
/// login's connections in `+Logins.swift`; metrics and tracing in `Observability/`. Every error
/// of an event becomes its answer here, in ``handle(_:at:)``, through ``RefusalConvertible``.
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
    let authStates: AuthStateCache?
    public let gateways: any GatewayDirectory
    public let messenger: Messenger
    /// Ordered streams, replay and the outbox, when ``GatewayConfiguration/streams`` is set.
    public let streams: Streams?
    public let logger: Logger
    let now: @Sendable () -> Date
    let table: RouteTable
    let metrics = EventMetrics()

    /// - Parameters:
    ///   - configuration: the secrets, origins, limits, channel policy and base path.
    ///   - store: where sessions and channel memberships live.
    ///   - gateways: the registered API Gateway APIs events are accepted from.
    ///   - poster: how messages reach clients (`@connections`).
    ///   - identity: tokens and rate-limit hits; by default the store, when it keeps them.
    ///   - permissions: the app's permissions, for requirements and channel rules.
    ///   - channelRules: the stored channel rules; by default the store, when it keeps them.
    ///   - authState: the app's login states, so a password change ends the user's connections.
    ///   - streamStore: where streams live, when ``GatewayConfiguration/streams`` is set; by default
    ///     the store, when it keeps them.
    ///   - logger: where events are logged (at debug level or lower, failures at error).
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
        streamStore: (any StreamStore)? = nil,
        logger: Logger = .disabled,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.configuration = configuration
        self.store = store
        self.identity = identity ?? (store as? any IdentityStore)
        self.permissions = permissions
        self.gateways = gateways
        self.messenger = Messenger(store: store, poster: poster, logger: logger, now: now)
        let messenger = self.messenger
        let streams = configuration.streams.flatMap { streams in
            (streamStore ?? store as? any StreamStore).map {
                Streams(configuration: streams, store: $0, messenger: messenger, gateways: gateways, now: now)
            }
        }
        self.streams = streams
        if configuration.streams != nil && streams == nil {
            logger.warning("streams are configured but the store keeps none: sends go out without positions")
        }
        self.channels = Channels(
            configuration: configuration.channels, store: store, rules: channelRules ?? (store as? any ChannelRuleStore),
            permissions: permissions, gateways: gateways, messenger: messenger, now: now)
        self.authStates = authState.map { AuthStateCache(source: $0, lifetime: configuration.authStateLifetime) }
        self.logger = logger
        self.now = now
        self.table = RouteTable(basePath: configuration.basePath)
        if configuration.secrets.isEmpty {
            logger.warning("no gateway secret configured: any caller that knows a registered API id is accepted")
            if configuration.gatewayIdentity != nil {
                logger.warning("gatewayIdentity is ignored without a gateway secret: nothing proves its header came from API Gateway")
            }
        }
    }

    // MARK: Routes

    /// Every URL registered so far, in registration order.
    public var routes: [RegisteredRoute] { table.routes }

    /// Whether any registered controller or handler requires a user or a permission (so a user
    /// must come from somewhere: a login, a token, or a connect hook).
    public var requiresUsers: Bool { table.requiresUsers }

    /// The endpoint served at `path` (a trailing slash does not matter), if any.
    public func endpoint(at path: String) -> Endpoint? { table.endpoint(at: path) }

    /// Registers `controller` and returns the endpoints to mount.
    ///
    /// The `$default` controller is served at the base path as `/{base}/connect`,
    /// `/{base}/disconnect` and `/{base}/default`. A custom route's controller is served at
    /// `path`, by default `/{base}/{routeKey}`.
    /// - Throws: ``RegistrationError`` when the route key or the path is already registered.
    public func register(_ controller: some WebSocketController, at path: String? = nil) throws -> [Endpoint] {
        try table.register(controller, at: path)
    }

    // MARK: Events

    /// Checks, tracks and dispatches one integration request. Never throws: every failure is an
    /// answer with a status and a reason.
    public func handle(_ request: GatewayRequest, at endpoint: Endpoint) async -> GatewayResponse {
        var context = ServiceContext.current ?? .topLevel
        let trace = request.headerFields.first(.amznTraceID).flatMap(AmazonTraceID.init)
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
        // Labelled by API only once the API is known to be registered: an unknown id is not a label.
        var api = "unknown"
        do {
            let checked = try await checkEvent(request, endpoint: endpoint, logger: &logger)
            api = checked.gateway.apiID.rawValue
            let response: GatewayResponse
            switch event {
            case .connect: response = try await connect(request, checked, endpoint, logger)
            case .disconnect: response = try await disconnect(request, checked, endpoint, logger)
            default: response = try await message(request, checked, endpoint, logger)
            }
            metrics.record(event, endpoint.route.routeKey, api: api, outcome: "handled", since: started)
            return response
        } catch {
            // The one place an error becomes an answer. On a two-way route the answer's body is a
            // frame for the client: the refusal's `{"id", "type": "error", …}` when it had an id (sent
            // with 200, which API Gateway passes on whatever it does with other statuses), else none.
            let answeredInResponse = error as? AnsweredInResponse
            let error = answeredInResponse?.error ?? error
            let refusal = Refusal.answering(error)
            let stated = error is any RefusalConvertible
            if refusal.status.code >= 500 && !(error is Refusal) {
                var metadata: Logger.Metadata = [
                    "apigw.refusal": "\(refusal.code)", "apigw.error": "\(LogValue(String(reflecting: error)))",
                ]
                if let failure = error as? StoreFailure {
                    metadata["apigw.operation"] = "\(failure.operation)"
                    metadata["apigw.error"] = "\(LogValue(String(reflecting: failure.underlying)))"
                }
                logger.error(error is StoreFailure ? "store failed" : "event failed", metadata: metadata)
            } else {
                logger.debug(
                    "refused",
                    metadata: [
                        "apigw.refusal": "\(refusal.code)", "apigw.status": "\(refusal.status.code)",
                        "apigw.detail": "\(LogValue(refusal.detail))",
                    ])
            }
            metrics.record(event, endpoint.route.routeKey, api: api, outcome: stated ? refusal.code.rawValue : "failed", since: started)
            if let answeredInResponse { return GatewayResponse(status: .ok, body: answeredInResponse.frame) }
            return endpoint.route.twoWay ? GatewayResponse(status: refusal.status) : GatewayResponse(refusal: refusal)
        }
    }
}
