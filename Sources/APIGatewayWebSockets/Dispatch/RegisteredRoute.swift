/// One URL the backend serves for API Gateway: which route key reaches it and for what event.
///
/// ``GatewayDispatcher/routes`` lists every one, which is what provisioning turns into API
/// Gateway routes and integrations.
public struct RegisteredRoute: Sendable, Hashable, CustomStringConvertible {
    public let routeKey: RouteKey
    /// The path API Gateway's integration must call, e.g. `/ws/connect` or
    /// `/websockets/notifications/`.
    public let path: String
    public let event: EventKind

    public init(routeKey: RouteKey, path: String, event: EventKind) {
        self.routeKey = routeKey
        self.path = path
        self.event = event
    }

    public var description: String { "\(routeKey) → POST \(path)" }
}

/// A registered URL together with the controller serving it: what an adapter mounts.
public struct Endpoint: Sendable {
    public let route: RegisteredRoute
    let controller: RegisteredController
}

/// A controller with its handler table built once, at registration.
struct RegisteredController: Sendable {
    let controller: any WebSocketController
    let handlers: HandlerRegistry

    init(_ controller: any WebSocketController) {
        self.controller = controller
        var handlers = HandlerRegistry()
        controller.handlers(&handlers)
        self.handlers = handlers
    }
}

/// Why a controller could not be registered.
public struct RegistrationError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// Joins path segments into `/a/b`, keeping a trailing slash if the last segment had one.
func normalizedPath(_ raw: String) -> String {
    let segments = raw.split(separator: "/", omittingEmptySubsequences: true)
    let joined = "/" + segments.joined(separator: "/")
    return raw.hasSuffix("/") && !segments.isEmpty ? joined + "/" : joined
}

/// The path without its trailing slash, for comparing two registrations.
func pathKey(_ path: String) -> String {
    path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
}
