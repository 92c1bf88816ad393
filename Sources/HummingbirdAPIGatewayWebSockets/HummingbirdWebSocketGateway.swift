public import APIGatewayWebSockets
import HTTPTypes
public import Hummingbird
public import Logging
import NIOCore
public import ServiceLifecycle

/// The framework in a Hummingbird 2 app: mounts a `GatewayDispatcher`'s controllers on a router
/// and hands each API Gateway event to it; serves the token endpoint and the client script; and
/// gives the app's `ServiceGroup` the framework's background work as `Service`s.
///
/// Hummingbird speaks swift-http-types, as the core does, so a request's fields and a response's
/// pass through untouched; the door only collects the body and picks the user.
///
/// ```swift
/// let gateway = HummingbirdWebSocketGateway(
///     dispatcher: dispatcher,
///     connectMiddleware: [SessionMiddleware(storage: SQLPersistDriver(store: webSessions)), SessionAuthenticator(users: users)]
/// ) { _, context in
///     context.identity.map { AuthenticatedUser(id: $0.name) }   // who the app's login found, on $connect
/// }
/// try gateway.register(ChatController(), on: router)             // /ws/connect, /ws/disconnect, /ws/default
/// try gateway.serveConnectionTokens(on: router)                   // POST /ws/token
/// try gateway.serveClientScript(on: router)                       // GET /apigw-websockets.js
/// let app = Application(router: router)
/// let services = ServiceGroup(services: [app] + gateway.services(logger: app.logger), logger: app.logger)
/// ```
public struct HummingbirdWebSocketGateway<Context: RequestContext>: Sendable {
    public let dispatcher: GatewayDispatcher
    /// The app's login, run before `$connect` and the token endpoint only (API Gateway forwards
    /// the browser's `Cookie` on `$connect` alone): its session middleware and authenticator.
    public let connectMiddleware: [any MiddlewareProtocol<Request, Response, Context>]
    /// The app's logged-in user once ``connectMiddleware`` ran; `nil`: no login, users come from
    /// a connect hook, a one-time token or nowhere.
    public let user: (@Sendable (Request, Context) async throws -> AuthenticatedUser?)?

    public init(
        dispatcher: GatewayDispatcher,
        connectMiddleware: [any MiddlewareProtocol<Request, Response, Context>] = [],
        user: (@Sendable (Request, Context) async throws -> AuthenticatedUser?)? = nil
    ) {
        self.dispatcher = dispatcher
        self.connectMiddleware = connectMiddleware
        self.user = user
    }

    /// Registers `controller` with the dispatcher and serves its URLs on `router`: the `$default`
    /// controller at `/{basePath}/connect|disconnect|default`, a custom route's at `path` (by
    /// default `/{basePath}/{routeKey}`).
    /// - Throws: `RegistrationError` when its route key or path is taken.
    public func register(_ controller: some WebSocketController, at path: String? = nil, on router: some RouterMethods<Context>) throws {
        for endpoint in try dispatcher.register(controller, at: path) { mount(endpoint, on: router) }
    }

    /// Serves the URLs of every controller registered with the dispatcher itself
    /// (`dispatcher.register(_:at:)`). An app that registers its controllers where it builds the
    /// dispatcher has its routes also where no router is built: in the `gateway` commands, which
    /// plan the API from them.
    public func serveRegisteredControllers(on router: some RouterMethods<Context>) {
        for route in dispatcher.routes {
            if let endpoint = dispatcher.endpoint(at: route.path) { mount(endpoint, on: router) }
        }
    }

    private func mount(_ endpoint: Endpoint, on router: some RouterMethods<Context>) {
        let connect = endpoint.route.event == .connect
        let responder = EventResponder(
            dispatcher: dispatcher, endpoint: endpoint, user: connect ? user : nil,
            // A little more than the limit, so the core's guard, not the collector, answers an oversize body.
            maxBody: dispatcher.configuration.maxBodySize + 1024)
        withLogin(connect, on: router).post(RouterPath(endpoint.route.path), use: responder.respond)
    }

    /// Serves `POST /{path}` (default `/ws/token`): for a logged-in user, a one-time connection
    /// token, `{"token": "…", "expiresAt": "…"}`, to connect with `?ws_token=`. Refused 401
    /// without a login, 403 for a cross-site request, 429 past the per-user limit
    /// (`ConnectionTokenEndpoint`).
    /// - Throws: when the dispatcher's store keeps no tokens.
    public func serveConnectionTokens(
        at path: String = "ws/token", lifetime: Duration = .seconds(60), perUserPerMinute: Int = 10, on router: some RouterMethods<Context>
    ) throws {
        let endpoint = try ConnectionTokenEndpoint(dispatcher: dispatcher, lifetime: lifetime, perUserPerMinute: perUserPerMinute)
        let user = self.user
        withLogin(true, on: router).post(RouterPath(path)) { request, context -> Response in
            // Hummingbird moves HTTP/1's `Host` into the request's authority.
            Response(
                await endpoint.respond(
                    headerFields: request.headers, host: request.head.authority,
                    user: try await user?(request, context), logger: context.logger))
        }
    }

    /// Serves the JavaScript client, one dependency-free ES module, at `GET /{path}` (default
    /// `/apigw-websockets.js`).
    public func serveClientScript(at path: String = "apigw-websockets.js", on router: some RouterMethods<Context>) throws {
        let script = try ClientScript.response()
        router.get(RouterPath(path)) { _, _ in Response(script) }
    }

    /// The framework's background work, for the app's `ServiceGroup`: the delivery worker when
    /// streams are on (every instance runs one), and the cleanup every `cleanupInterval`, with the
    /// app's own `cleanupSteps` (`Cleanup.Step`; the web sessions' sweep, say). Each runs until
    /// the group's graceful shutdown.
    public func services(
        cleanupInterval: Duration? = .seconds(600), cleanupSteps: [Cleanup.Step] = [], logger: Logger
    ) -> [any Service] {
        var services: [any Service] = []
        if let streams = dispatcher.streams { services.append(DeliveryWorker(streams: streams, logger: logger)) }
        if let cleanupInterval {
            services.append(
                CleanupService(cleanup: dispatcher.cleanup(steps: cleanupSteps, logger: logger), interval: cleanupInterval, logger: logger))
        }
        return services
    }

    /// `router`, behind the login's middleware when `login` is asked for and there is one.
    private func withLogin(_ login: Bool, on router: some RouterMethods<Context>) -> any RouterMethods<Context> {
        guard login, !connectMiddleware.isEmpty else { return router }
        let group = router.group()
        for middleware in connectMiddleware { group.add(middleware: middleware) }
        return group
    }
}

/// Answers one endpoint's requests through the dispatcher.
struct EventResponder<Context: RequestContext>: Sendable {
    let dispatcher: GatewayDispatcher
    let endpoint: Endpoint
    let user: (@Sendable (Request, Context) async throws -> AuthenticatedUser?)?
    let maxBody: Int

    @Sendable func respond(_ request: Request, context: Context) async throws -> Response {
        var event = GatewayRequest(
            method: request.method, path: request.uri.path, query: request.uri.query, headerFields: request.headers,
            body: try await request.body.collect(upTo: maxBody))
        event.authenticatedUser = try await user?(request, context)
        return Response(await dispatcher.handle(event, at: endpoint))
    }
}

extension Response {
    /// A Hummingbird response carrying the core's answer.
    public init(_ response: GatewayResponse) {
        self.init(status: response.status, headers: response.headerFields, body: ResponseBody(byteBuffer: response.body))
    }
}
