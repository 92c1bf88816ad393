public import APIGatewayAWS
public import APIGatewayWebSockets

/// What exists in API Gateway for one API, read through the control plane.
public struct ExistingAPI: Sendable {
    public var api: APIGatewayV2.Api
    public var integrations: [APIGatewayV2.Integration]
    public var routes: [APIGatewayV2.Route]
    /// Route id → its route responses.
    public var routeResponses: [String: [APIGatewayV2.RouteResponse]]
    public var stage: APIGatewayV2.Stage?
    /// Its authorizers; `nil` when they were not read (``read(_:stage:client:for:)`` reads them
    /// for a desired API that declares one), and a plan that needs them then refuses to guess.
    public var authorizers: [APIGatewayV2.Authorizer]?

    public init(
        api: APIGatewayV2.Api, integrations: [APIGatewayV2.Integration], routes: [APIGatewayV2.Route],
        routeResponses: [String: [APIGatewayV2.RouteResponse]], stage: APIGatewayV2.Stage?, authorizers: [APIGatewayV2.Authorizer]? = nil
    ) {
        self.authorizers = authorizers
        self.api = api
        self.integrations = integrations
        self.routes = routes
        self.routeResponses = routeResponses
        self.stage = stage
    }

    /// Reads everything the planner compares: the API, its integrations, routes, two-way routes'
    /// responses and the stage; and its authorizers when `desired` declares one (moto, for one,
    /// answers a list of authorizers 500, so an API without one never asks).
    public static func read(_ apiID: APIID, stage: String, client: ControlPlaneClient, for desired: DesiredAPI? = nil) async throws
        -> ExistingAPI
    {
        let apiId = apiID.rawValue
        let routes = try await client.getRoutes(apiId)
        var responses: [String: [APIGatewayV2.RouteResponse]] = [:]
        for route in routes {
            guard let id = route.routeId, route.routeResponseSelectionExpression != nil else { continue }
            responses[id] = try await client.getRouteResponses(apiId, id)
        }
        let existingStage: APIGatewayV2.Stage?
        do { existingStage = try await client.getStage(apiId, stage) } catch let error as AWSError where error.code == .notFound {
            existingStage = nil
        }
        return ExistingAPI(
            api: try await client.getApi(apiId), integrations: try await client.getIntegrations(apiId), routes: routes,
            routeResponses: responses, stage: existingStage,
            authorizers: desired?.guards.connectAuthorization.authorizer == nil ? nil : try await client.getAuthorizers(apiId)
        )
    }

    /// The route with `routeKey`, if API Gateway has it.
    func route(_ routeKey: RouteKey) -> APIGatewayV2.Route? { routes.first { $0.routeKey == routeKey.rawValue } }

    /// The authorizer named `name`, if API Gateway has it.
    func authorizer(named name: String) -> APIGatewayV2.Authorizer? { authorizers?.first { $0.name == name } }
}
