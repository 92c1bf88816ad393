public import APIGatewayWebSockets

/// What API Gateway should hold for this backend: one WebSocket API whose routes point at the
/// URLs the app registered, each an `HTTP_PROXY` POST integration mapping `connectionId` from the
/// context and sending the gateway secret as a static header.
public struct DesiredAPI: Sendable, Hashable {
    public struct Route: Sendable, Hashable {
        public var routeKey: RouteKey
        public var integrationURI: String
        public var requestParameters: [String: String]
        /// Answered to the client through a `$default` route response.
        public var twoWay: Bool
    }

    /// A custom domain mapped to the stage; applied as its own step (`gateway domain`).
    public struct CustomDomain: Sendable, Hashable {
        public var domainName: String
        public var certificateARN: String
    }

    public var name: String
    public var description: String?
    public var routeSelectionExpression: String
    public var apiKeySelectionExpression: String
    public var stage: String
    public var stageDescription: String?
    /// Set when the API is created, then kept in step through the tagging calls.
    public var tags: [String: String]
    public var routes: [Route]
    public var customDomain: CustomDomain?
    /// What API Gateway checks before the backend hears of a request (none by default).
    public var guards = Guards()

    public init(
        name: String, description: String? = nil, routeSelectionExpression: String = "$request.body.action",
        apiKeySelectionExpression: String = "$request.header.x-api-key", stage: String, stageDescription: String? = nil,
        tags: [String: String] = [:], routes: [Route], customDomain: CustomDomain? = nil
    ) {
        self.name = name
        self.description = description
        self.routeSelectionExpression = routeSelectionExpression
        self.apiKeySelectionExpression = apiKeySelectionExpression
        self.stage = stage
        self.stageDescription = stageDescription
        self.tags = tags
        self.routes = routes
        self.customDomain = customDomain
    }

    /// The desired API for a gateway record: the app's registered routes under
    /// ``GatewaySettings/targetBaseURL``, then each additional route at its own URL.
    ///
    /// - Throws: ``ProvisioningError`` (``ProvisioningError/Code/invalid``) when an additional
    ///   route reuses a registered route key or another additional route's key.
    public init(
        settings: GatewaySettings,
        routes: [RegisteredRoute],
        additionalRoutes: [AdditionalRoute] = [],
        secretHeader: String = "X-Ws-Gateway-Secret",
        secret: String?,
        twoWayRouteKeys: Set<RouteKey> = []
    ) throws(ProvisioningError) {
        var desired = DesiredAPI(
            name: settings.name, stage: settings.stage, routes: routes, publicBaseURL: settings.targetBaseURL, secretHeader: secretHeader,
            secret: secret, twoWayRouteKeys: twoWayRouteKeys, routeSelectionExpression: settings.routeSelectionExpression
        )
        desired.description = settings.description
        desired.apiKeySelectionExpression = settings.apiKeySelectionExpression
        desired.stageDescription = settings.stageDescription
        desired.tags = settings.tags
        if let domain = settings.customDomain, let certificate = settings.certificateARN {
            desired.customDomain = CustomDomain(domainName: domain, certificateARN: certificate)
        }
        let parameters = Self.requestParameters(secretHeader: secretHeader, secret: secret)
        var problems: [ProvisioningError.Problem] = []
        for extra in additionalRoutes {
            if desired.routes.contains(where: { $0.routeKey == extra.routeKey }) {
                problems.append(.init(field: "routeKey", message: "'\(extra.routeKey)' (route '\(extra.name)') is already a route"))
                continue
            }
            desired.routes.append(
                Route(
                    routeKey: extra.routeKey, integrationURI: extra.integrationURL, requestParameters: parameters,
                    twoWay: twoWayRouteKeys.contains(extra.routeKey)))
        }
        if !problems.isEmpty { throw .invalid(problems) }
        desired.routes.sort { $0.routeKey < $1.routeKey }
        self = desired
    }

    /// The integration's request parameters: `connectionId` from the context, the secret as a
    /// static header value.
    public static func requestParameters(secretHeader: String, secret: String?) -> [String: String] {
        var parameters = ["integration.request.header.connectionId": "context.connectionId"]
        if let secret { parameters["integration.request.header.\(secretHeader)"] = "'\(secret)'" }
        return parameters
    }

    /// The desired API for the routes an app registered.
    ///
    /// - Parameters:
    ///   - name: the API's name in API Gateway.
    ///   - stage: the stage clients connect to.
    ///   - routes: the dispatcher's `GatewayDispatcher/routes`.
    ///   - publicBaseURL: where API Gateway reaches this backend, e.g. `https://api.example.com`.
    ///   - secret: sent by every integration in `secretHeader`; `nil` sends none.
    ///   - twoWayRouteKeys: more routes whose HTTP answer is sent back to the client (those of
    ///     two-way controllers are already).
    ///   - secretHeader: the header the secret travels in (`X-Ws-Gateway-Secret`).
    ///   - routeSelectionExpression: what picks a message's route (`$request.body.action`).
    public init(
        name: String,
        stage: String,
        routes: [RegisteredRoute],
        publicBaseURL: String,
        secretHeader: String = "X-Ws-Gateway-Secret",
        secret: String?,
        twoWayRouteKeys: Set<RouteKey> = [],
        routeSelectionExpression: String = "$request.body.action"
    ) {
        var base = publicBaseURL
        while base.hasSuffix("/") { base.removeLast() }
        let parameters = Self.requestParameters(secretHeader: secretHeader, secret: secret)
        self.init(
            name: name, routeSelectionExpression: routeSelectionExpression, stage: stage,
            routes: routes.map { route in
                Route(
                    routeKey: route.routeKey, integrationURI: base + route.path, requestParameters: parameters,
                    twoWay: route.twoWay || twoWayRouteKeys.contains(route.routeKey))
            }.sorted { $0.routeKey < $1.routeKey }
        )
    }
}
