public import APIGatewayAWS
public import APIGatewayWebSockets

extension Planner {
    /// What a step left behind, for the caller to record.
    public struct Progress: Sendable, Hashable {
        public let apiID: APIID
        /// The API's `wss://` endpoint, known once the API is created.
        public let apiEndpoint: String?
        /// Set by the deploy step.
        public let deploymentID: String?
        /// What the step created: the API, integration, route or deployment id.
        public let resourceID: String?
    }

    /// A route's ids in API Gateway.
    public struct RouteIDs: Sendable, Hashable {
        public let routeID: String
        public let integrationID: String?
    }

    /// What an apply left in API Gateway.
    public struct Applied: Sendable {
        public let plan: Plan
        public let apiID: APIID
        public let apiEndpoint: String?
        /// Every route the API has after the apply, with its ids: callers record them without
        /// reading the routes again.
        public let routes: [RouteKey: RouteIDs]
    }

    /// Performs `plan` in order, starting from what the plan read (``Plan/existing``): nothing is
    /// listed again. Each step reads the ids earlier steps produced; `progress` is told after each
    /// step succeeds (to record it).
    /// - Throws: the first failing step's error (an `AWSError`, or a ``ProvisioningError`` when
    ///   API Gateway answered without an id a later step needs); steps before it stay done, and
    ///   planning again from what then exists resumes without duplicates.
    @discardableResult
    public static func apply(
        _ plan: Plan, client: ControlPlaneClient, progress: @Sendable (PlanStep, Progress) async throws -> Void = { _, _ in }
    ) async throws -> Applied {
        let desired = plan.desired
        var apiID = plan.apiID
        var apiEndpoint = plan.existing?.api.apiEndpoint
        var integrationIDs: [RouteKey: String] = [:]
        var routes: [RouteKey: RouteIDs] = [:]
        for route in plan.existing?.routes ?? [] {
            guard let raw = route.routeKey, let key = try? RouteKey(raw), let id = route.routeId else { continue }
            routes[key] = RouteIDs(routeID: id, integrationID: route.integrationId)
        }
        func integrationInput(_ route: DesiredAPI.Route) -> APIGatewayV2.Integration {
            .init(
                integrationType: "HTTP_PROXY", integrationMethod: "POST", integrationUri: route.integrationURI, connectionType: "INTERNET",
                passthroughBehavior: "WHEN_NO_MATCH", payloadFormatVersion: "1.0", requestParameters: route.requestParameters,
                timeoutInMillis: 29_000)
        }
        func route(_ key: RouteKey) -> DesiredAPI.Route? { desired.routes.first { $0.routeKey == key } }
        let guards = desired.guards
        var authorizerID = guards.connectAuthorization.authorizer.flatMap { plan.existing?.authorizer(named: $0.name)?.authorizerId }
        func authorizerInput(_ authorizer: DesiredAPI.Authorizer) -> APIGatewayV2.Authorizer {
            .init(name: authorizer.name, authorizerType: "REQUEST", authorizerUri: authorizer.authorizerURI, identitySource: authorizer.identitySource)
        }
        /// `$connect`'s authorization fields; nothing for the other routes.
        func authorization(_ key: RouteKey, into input: inout APIGatewayV2.Route) {
            guard key == .connect else { return }
            input.authorizationType = guards.connectAuthorization.authorizationType
            input.authorizerId = guards.connectAuthorization.authorizer == nil ? "" : authorizerID
            input.apiKeyRequired = guards.apiKeyRequired
        }
        for step in plan.steps {
            if case .createAPI = step.action {
                let api = try await client.createApi(
                    .init(
                        name: desired.name, protocolType: "WEBSOCKET", routeSelectionExpression: desired.routeSelectionExpression,
                        apiKeySelectionExpression: desired.apiKeySelectionExpression, description: desired.description,
                        disableSchemaValidation: true, tags: desired.tags.isEmpty ? nil : desired.tags
                    ))
                guard let raw = api.apiId, let id = try? APIID(raw) else { throw ProvisioningError.missingID("API", after: step) }
                apiID = id
                apiEndpoint = api.apiEndpoint
                try await progress(step, Progress(apiID: id, apiEndpoint: apiEndpoint, deploymentID: nil, resourceID: raw))
                continue
            }
            guard let current = apiID else { throw ProvisioningError.missingID("API", after: step) }
            let api = current.rawValue
            var deploymentID: String?
            var created: String?
            switch step.action {
            case .createAPI:
                continue  // done above
            case .updateAPI:
                _ = try await client.updateApi(
                    api,
                    .init(
                        name: desired.name, routeSelectionExpression: desired.routeSelectionExpression,
                        apiKeySelectionExpression: desired.apiKeySelectionExpression, description: desired.description ?? ""
                    ))
            case .updateTags(let remove):
                let arn = client.apiARN(api)
                if !desired.tags.isEmpty { try await client.tagResource(arn, desired.tags) }
                if !remove.isEmpty { try await client.untagResource(arn, keys: remove) }
            case .createAuthorizer:
                guard let authorizer = guards.connectAuthorization.authorizer else { continue }
                guard let id = try await client.createAuthorizer(api, authorizerInput(authorizer)).authorizerId else {
                    throw ProvisioningError.missingID("authorizer", after: step)
                }
                authorizerID = id
                created = id
            case .updateAuthorizer(let id):
                guard let authorizer = guards.connectAuthorization.authorizer else { continue }
                _ = try await client.updateAuthorizer(api, id, authorizerInput(authorizer))
            case .createIntegration(let key):
                guard let desiredRoute = route(key) else { throw ProvisioningError.noIntegration(for: key) }
                guard let id = try await client.createIntegration(api, integrationInput(desiredRoute)).integrationId else {
                    throw ProvisioningError.missingID("integration", after: step)
                }
                integrationIDs[key] = id
                created = id
            case .updateIntegration(let key, let id):
                guard let desiredRoute = route(key) else { throw ProvisioningError.noIntegration(for: key) }
                _ = try await client.updateIntegration(api, id, integrationInput(desiredRoute))
            case .createRoute(let key, let reused):
                guard let desiredRoute = route(key), let integrationID = reused ?? integrationIDs[key] else {
                    throw ProvisioningError.noIntegration(for: key)
                }
                var input = APIGatewayV2.Route(
                    routeKey: key.rawValue, target: APIGatewayV2.Route.target(integrationId: integrationID),
                    routeResponseSelectionExpression: desiredRoute.twoWay ? "$default" : nil, authorizationType: "NONE")
                authorization(key, into: &input)
                let answer = try await client.createRoute(api, input)
                guard let id = answer.routeId else { throw ProvisioningError.missingID("route", after: step) }
                routes[key] = RouteIDs(routeID: id, integrationID: integrationID)
                created = id
            case .updateRoute(let key, let id):
                let twoWay = route(key)?.twoWay ?? false
                var input = APIGatewayV2.Route(
                    target: integrationIDs[key].map(APIGatewayV2.Route.target(integrationId:)),
                    routeResponseSelectionExpression: twoWay ? "$default" : nil)
                authorization(key, into: &input)
                _ = try await client.updateRoute(api, id, input)
                if let integrationID = integrationIDs[key] { routes[key] = RouteIDs(routeID: id, integrationID: integrationID) }
            case .createRouteResponse(let key):
                guard let id = routes[key]?.routeID else { throw ProvisioningError.missingID("route", after: step) }
                _ = try await client.createRouteResponse(api, id, .init(routeResponseKey: "$default"))
            case .deleteRoute(let key, let id):
                try await client.deleteRoute(api, id)
                routes[key] = nil
            case .createStage:
                var input = stageInput(desired)
                input.stageName = desired.stage
                input.description = desired.stageDescription
                _ = try await client.createStage(api, input)
            case .updateStage:
                _ = try await client.updateStage(api, desired.stage, stageInput(desired))
            case .deploy:
                deploymentID = try await client.createDeployment(
                    api, .init(description: "applied by swift-apigateway-websockets", stageName: desired.stage)
                ).deploymentId
                created = deploymentID
            }
            try await progress(step, Progress(apiID: current, apiEndpoint: apiEndpoint, deploymentID: deploymentID, resourceID: created))
        }
        guard let apiID else { throw ProvisioningError.nothingApplied() }
        return Applied(plan: plan, apiID: apiID, apiEndpoint: apiEndpoint, routes: routes)
    }
}
