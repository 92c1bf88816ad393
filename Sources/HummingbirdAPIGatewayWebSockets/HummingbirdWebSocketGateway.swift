public import APIGatewayWebSockets
import HTTPTypes
public import Hummingbird
import NIOCore

/// The framework in a Hummingbird 2 app: mounts a `GatewayDispatcher`'s controllers on a
/// router and hands each API Gateway event to it.
///
/// Hummingbird speaks swift-http-types, as the core does, so a request's fields and a response's
/// pass through untouched; the door only collects the body and picks the user.
///
/// ```swift
/// let dispatcher = GatewayDispatcher(
///     configuration: .init(secrets: ["s3cret"]), store: store,
///     gateways: CachedGatewayDirectory([record]), poster: ManagementClient(...))
/// let router = Router()
/// let gateway = HummingbirdWebSocketGateway(dispatcher: dispatcher) { request, _ in
///     request.headers[.authorization].flatMap(users.user(bearer:))   // the app's login, on $connect
/// }
/// try gateway.register(ChatController(), on: router)                  // /ws/connect, /ws/disconnect, /ws/default
/// try await Application(router: router).runService()
/// ```
///
/// Sessions live in the dispatcher's store (the core's in-memory store, or any
/// `ConnectionStore`); the token endpoint, the client script, the admin pages and the commands
/// are the Vapor door's.
public struct HummingbirdWebSocketGateway<Context: RequestContext>: Sendable {
    public let dispatcher: GatewayDispatcher
    /// The app's logged-in user for a `$connect` (API Gateway forwards the client's headers on it
    /// only); `nil`: no login, users come from a connect hook or nowhere.
    public let user: (@Sendable (Request, Context) async throws -> AuthenticatedUser?)?

    public init(
        dispatcher: GatewayDispatcher, user: (@Sendable (Request, Context) async throws -> AuthenticatedUser?)? = nil
    ) {
        self.dispatcher = dispatcher
        self.user = user
    }

    /// Registers `controller` with the dispatcher and serves its URLs on `router`: the `$default`
    /// controller at `/{basePath}/connect|disconnect|default`, a custom route's at `path` (by
    /// default `/{basePath}/{routeKey}`).
    /// - Throws: `RegistrationError` when its route key or path is taken.
    public func register(_ controller: some WebSocketController, at path: String? = nil, on router: some RouterMethods<Context>) throws {
        for endpoint in try dispatcher.register(controller, at: path) {
            let responder = EventResponder(
                dispatcher: dispatcher, endpoint: endpoint, user: endpoint.route.event == .connect ? user : nil,
                // A little more than the limit, so the core's guard, not the collector, answers an oversize body.
                maxBody: dispatcher.configuration.maxBodySize + 1024)
            router.post(RouterPath(endpoint.route.path), use: responder.respond)
        }
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
        let answer = await dispatcher.handle(event, at: endpoint)
        return Response(status: answer.status, headers: answer.headerFields, body: ResponseBody(byteBuffer: answer.body))
    }
}
