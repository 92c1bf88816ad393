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
    /// Whether API Gateway sends the integration's response back to the sender (a message route
    /// whose controller is ``WebSocketController/twoWay``).
    public let twoWay: Bool

    public init(routeKey: RouteKey, path: String, event: EventKind, twoWay: Bool = false) {
        self.routeKey = routeKey
        self.path = path
        self.event = event
        self.twoWay = twoWay && event == .message
    }

    public var description: String { "\(routeKey) → POST \(path)\(twoWay ? " (two-way)" : "")" }
}

/// A registered URL together with the controller serving it: what an adapter mounts.
public struct Endpoint: Sendable {
    public let route: RegisteredRoute
    let controller: RegisteredController
}

/// A controller with its handler table and requirements read once, at registration.
struct RegisteredController: Sendable {
    let controller: any WebSocketController
    let handlers: HandlerRegistry
    let requirement: Requirement?
    let connectRequirement: Requirement?

    init(_ controller: any WebSocketController) {
        self.controller = controller
        var handlers = HandlerRegistry()
        controller.handlers(&handlers)
        self.handlers = handlers
        self.requirement = controller.requirement
        self.connectRequirement = controller.connectRequirement
    }
}

/// Why a controller could not be registered.
public struct RegistrationError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case pathForDefault
        case reservedKey(RouteKey)
        case taken(RegisteredRoute, by: RegisteredRoute)
    }

    private let kind: Kind

    /// The `$default` controller was given a path: it is served at the base path.
    static let pathForDefault = RegistrationError(kind: .pathForDefault)
    /// A custom controller declared `$connect` or `$disconnect`.
    static func reservedKey(_ key: RouteKey) -> RegistrationError { RegistrationError(kind: .reservedKey(key)) }
    /// The route key or path is already registered.
    static func taken(_ route: RegisteredRoute, by clash: RegisteredRoute) -> RegistrationError {
        RegistrationError(kind: .taken(route, by: clash))
    }

    public var description: String {
        switch kind {
        case .pathForDefault: "the $default controller is served at the base path; set GatewayConfiguration.basePath instead"
        case .reservedKey(let key): "\(key) is served by the $default controller; give this controller a custom route key"
        case .taken(let route, let clash): "cannot register \(route): \(clash) is already registered"
        }
    }
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
