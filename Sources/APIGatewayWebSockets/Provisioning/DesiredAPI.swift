/// What API Gateway should hold for this backend: one WebSocket API whose routes point at the
/// URLs the app registered, each an `HTTP_PROXY` POST integration mapping `connectionId` from the
/// context and sending the gateway secret as a static header.
public struct DesiredAPI: Sendable, Hashable {
    public struct Route: Sendable, Hashable {
        public var routeKey: String
        public var integrationURI: String
        public var requestParameters: [String: String]
        /// Answered to the client through a `$default` route response.
        public var twoWay: Bool
    }

    public var name: String
    public var routeSelectionExpression: String
    public var stage: String
    public var routes: [Route]

    public init(name: String, routeSelectionExpression: String = "$request.body.action", stage: String, routes: [Route]) {
        self.name = name
        self.routeSelectionExpression = routeSelectionExpression
        self.stage = stage
        self.routes = routes
    }

    /// The desired API for the routes an app registered.
    ///
    /// - Parameters:
    ///   - routes: the dispatcher's ``GatewayDispatcher/routes``.
    ///   - publicBaseURL: where API Gateway reaches this backend, e.g. `https://api.example.com`.
    ///   - secret: sent by every integration in `secretHeader`; `nil` sends none.
    ///   - twoWayRouteKeys: routes whose HTTP answer is sent back to the client.
    public init(
        name: String,
        stage: String,
        routes: [RegisteredRoute],
        publicBaseURL: String,
        secretHeader: String = "X-Ws-Gateway-Secret",
        secret: String?,
        twoWayRouteKeys: Set<String> = [],
        routeSelectionExpression: String = "$request.body.action"
    ) {
        var base = publicBaseURL
        while base.hasSuffix("/") { base.removeLast() }
        var parameters = ["integration.request.header.connectionId": "context.connectionId"]
        if let secret { parameters["integration.request.header.\(secretHeader)"] = "'\(secret)'" }
        self.init(
            name: name, routeSelectionExpression: routeSelectionExpression, stage: stage,
            routes: routes.map { route in
                Route(routeKey: route.routeKey.rawValue, integrationURI: base + route.path, requestParameters: parameters,
                      twoWay: twoWayRouteKeys.contains(route.routeKey.rawValue))
            }.sorted { $0.routeKey < $1.routeKey }
        )
    }
}
