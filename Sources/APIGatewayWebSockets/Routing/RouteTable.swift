import Synchronization

/// The registered endpoints, by route key and by path: what ``GatewayDispatcher/register(_:at:)``
/// adds to and what an adapter mounts. Registration happens at setup; reads happen on every event.
final class RouteTable: Sendable {
    private let endpoints = Mutex<[Endpoint]>([])
    /// Where the `$default` controller's three URLs live, normalized (`/ws`).
    let basePath: String

    init(basePath: String) {
        self.basePath = normalizedPath(basePath)
    }

    /// Every URL registered so far, in registration order.
    var routes: [RegisteredRoute] { endpoints.withLock { $0.map(\.route) } }

    /// Whether any registered controller or handler requires a user or a permission.
    var requiresUsers: Bool {
        endpoints.withLock { endpoints in
            endpoints.contains { endpoint in
                let controller = endpoint.controller
                return controller.requirement != nil || controller.connectRequirement != nil || !controller.handlers.requirements.isEmpty
            }
        }
    }

    /// The endpoint served at `path` (a trailing slash does not matter), if any.
    func endpoint(at path: String) -> Endpoint? {
        let key = pathKey(normalizedPath(path))
        return endpoints.withLock { $0.first { pathKey($0.route.path) == key } }
    }

    /// Adds `controller`'s endpoints: the `$default` controller's at `/{base}/connect|disconnect|default`,
    /// a custom route's at `path`, by default `/{base}/{routeKey}`.
    /// - Throws: ``RegistrationError`` when the route key or the path is already registered.
    func register(_ controller: some WebSocketController, at path: String?) throws -> [Endpoint] {
        let registered = RegisteredController(controller)
        let prefix = basePath == "/" ? "" : basePath
        let routes: [RegisteredRoute]
        if controller.routeKey == .default {
            if path != nil {
                throw RegistrationError.pathForDefault
            }
            routes = [
                RegisteredRoute(routeKey: .connect, path: prefix + "/connect", event: .connect),
                RegisteredRoute(routeKey: .disconnect, path: prefix + "/disconnect", event: .disconnect),
                RegisteredRoute(routeKey: .default, path: prefix + "/default", event: .message, twoWay: controller.twoWay),
            ]
        } else if controller.routeKey.isReserved {
            throw RegistrationError.reservedKey(controller.routeKey)
        } else {
            routes = [
                RegisteredRoute(
                    routeKey: controller.routeKey, path: normalizedPath(path ?? prefix + "/" + controller.routeKey.rawValue),
                    event: .message, twoWay: controller.twoWay)
            ]
        }
        let added = routes.map { Endpoint(route: $0, controller: registered) }
        try endpoints.withLock { endpoints in
            for route in routes {
                if let clash = endpoints.first(where: {
                    $0.route.routeKey == route.routeKey || pathKey($0.route.path) == pathKey(route.path)
                }) {
                    throw RegistrationError.taken(route, by: clash.route)
                }
            }
            endpoints.append(contentsOf: added)
        }
        return added
    }
}
