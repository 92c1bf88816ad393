public import APIGatewayAWS

/// What exists in API Gateway for one API, read through the control plane.
public struct ExistingAPI: Sendable {
    public var api: APIGatewayV2.Api
    public var integrations: [APIGatewayV2.Integration]
    public var routes: [APIGatewayV2.Route]
    /// Route id → its route responses.
    public var routeResponses: [String: [APIGatewayV2.RouteResponse]]
    public var stage: APIGatewayV2.Stage?

    public init(
        api: APIGatewayV2.Api, integrations: [APIGatewayV2.Integration], routes: [APIGatewayV2.Route],
        routeResponses: [String: [APIGatewayV2.RouteResponse]], stage: APIGatewayV2.Stage?
    ) {
        self.api = api
        self.integrations = integrations
        self.routes = routes
        self.routeResponses = routeResponses
        self.stage = stage
    }

    /// Reads everything the planner compares.
    public static func read(_ apiId: String, stage: String, client: ControlPlaneClient) async throws -> ExistingAPI {
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
            routeResponses: responses, stage: existingStage
        )
    }
}

/// One change the plan makes, in the order it must be made.
public struct PlanStep: Sendable, Hashable, CustomStringConvertible {
    public enum Action: Sendable, Hashable {
        case createAPI
        case updateAPI
        /// Sets the desired tags and removes `remove` (tags API Gateway reserves, `aws:…`, are left alone).
        case updateTags(remove: [String])
        case createIntegration(routeKey: String)
        case updateIntegration(routeKey: String, integrationId: String)
        /// With the id of an existing, untargeted integration to reuse (an apply that stopped half-way).
        case createRoute(routeKey: String, integrationId: String?)
        case updateRoute(routeKey: String, routeId: String)
        case createRouteResponse(routeKey: String)
        case deleteRoute(routeKey: String, routeId: String)
        case createStage
        case updateStage
        case deploy
    }

    public let action: Action
    /// One line a person reads in `gateway plan`.
    public let summary: String

    public var description: String { summary }
}

/// The difference between the desired API and what exists, as ordered steps.
public struct Plan: Sendable, CustomStringConvertible {
    public let desired: DesiredAPI
    public let apiId: String?
    public let steps: [PlanStep]

    public var isEmpty: Bool { steps.isEmpty }

    public var description: String {
        guard !steps.isEmpty else { return "No changes: API Gateway matches the app's routes." }
        return
            (["Plan for API '\(desired.name)'\(apiId.map { " (\($0))" } ?? ""), stage '\(desired.stage)':"]
            + steps.map { "  \($0.summary)" } + ["\(steps.count) change(s)."]).joined(separator: "\n")
    }
}

/// Turns the app's routes into API Gateway's routes, integrations and stage: `plan` shows the
/// difference, `apply` performs it. Both doors (commands, admin) and the IaC exports share it.
public enum Planner {
    /// The steps that make `existing` (nil: no API yet) match `desired`. Routes API Gateway has
    /// that the app does not are deleted; integrations are updated in place.
    public static func plan(_ desired: DesiredAPI, existing: ExistingAPI?) -> Plan {
        var steps: [PlanStep] = []
        guard let existing else {
            steps.append(
                PlanStep(action: .createAPI, summary: "+ create WebSocket API '\(desired.name)' (\(desired.routeSelectionExpression))"))
            for route in desired.routes { steps += createSteps(route) }
            steps.append(PlanStep(action: .createStage, summary: "+ create stage '\(desired.stage)'"))
            steps.append(PlanStep(action: .deploy, summary: "~ deploy stage '\(desired.stage)'"))
            return Plan(desired: desired, apiId: nil, steps: steps)
        }
        let apiChanges = [
            ("name", existing.api.name, desired.name),
            ("route selection expression", existing.api.routeSelectionExpression, desired.routeSelectionExpression),
            ("API key selection expression", existing.api.apiKeySelectionExpression, desired.apiKeySelectionExpression),
            ("description", existing.api.description.nonEmpty, desired.description.nonEmpty),
        ].filter { $0.1 != $0.2 }
        if !apiChanges.isEmpty {
            steps.append(
                PlanStep(
                    action: .updateAPI,
                    summary: "~ API " + apiChanges.map { "\($0.0) \($0.1 ?? "none") → \($0.2 ?? "none")" }.joined(separator: ", ")))
        }
        let existingTags = (existing.api.tags ?? [:]).filter { !$0.key.lowercased().hasPrefix("aws:") }
        if existingTags != desired.tags {
            func list(_ tags: [String: String]) -> String {
                tags.isEmpty ? "none" : tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            }
            steps.append(
                PlanStep(
                    action: .updateTags(remove: existingTags.keys.filter { desired.tags[$0] == nil }.sorted()),
                    summary: "~ tags \(list(existingTags)) → \(list(desired.tags))"
                ))
        }
        let integrations = Dictionary(
            existing.integrations.compactMap { i in i.integrationId.map { ($0, i) } }, uniquingKeysWith: { a, _ in a })
        let targeted = Set(existing.routes.compactMap(\.integrationId))
        var orphans = existing.integrations.filter { $0.integrationId.map { !targeted.contains($0) } ?? false }
        for route in desired.routes {
            guard let current = existing.routes.first(where: { $0.routeKey == route.routeKey }), let routeId = current.routeId else {
                // An integration a stopped apply created for this route is reused, not duplicated.
                if let index = orphans.firstIndex(where: { $0.integrationUri == route.integrationURI }),
                    let id = orphans[index].integrationId
                {
                    orphans.remove(at: index)
                    steps += createSteps(route, reusing: id)
                } else {
                    steps += createSteps(route)
                }
                continue
            }
            let integrationId = current.integrationId
            if let integrationId, let integration = integrations[integrationId] {
                if integration.integrationUri != route.integrationURI || (integration.requestParameters ?? [:]) != route.requestParameters
                    || integration.integrationType != "HTTP_PROXY"
                {
                    steps.append(
                        PlanStep(
                            action: .updateIntegration(routeKey: route.routeKey, integrationId: integrationId),
                            summary: "~ \(route.routeKey): integration → POST \(route.integrationURI)"
                                + ((integration.requestParameters ?? [:]) != route.requestParameters ? " (request parameters changed)" : "")
                        ))
                }
            } else {
                steps.append(
                    PlanStep(
                        action: .createIntegration(routeKey: route.routeKey),
                        summary: "+ \(route.routeKey): integration POST \(route.integrationURI)"))
                steps.append(
                    PlanStep(
                        action: .updateRoute(routeKey: route.routeKey, routeId: routeId),
                        summary: "~ \(route.routeKey): target the new integration"))
            }
            let twoWayNow = existing.routeResponses[routeId]?.contains { $0.routeResponseKey == "$default" } == true
            if route.twoWay && !twoWayNow {
                if current.routeResponseSelectionExpression == nil {
                    steps.append(
                        PlanStep(action: .updateRoute(routeKey: route.routeKey, routeId: routeId), summary: "~ \(route.routeKey): two-way"))
                }
                steps.append(
                    PlanStep(
                        action: .createRouteResponse(routeKey: route.routeKey), summary: "+ \(route.routeKey): route response $default"))
            }
        }
        for route in existing.routes where !desired.routes.contains(where: { $0.routeKey == route.routeKey }) {
            if let key = route.routeKey, let id = route.routeId {
                steps.append(PlanStep(action: .deleteRoute(routeKey: key, routeId: id), summary: "- \(key): delete route"))
            }
        }
        if let stage = existing.stage {
            if stage.description.nonEmpty != desired.stageDescription.nonEmpty {
                steps.append(
                    PlanStep(
                        action: .updateStage,
                        summary:
                            "~ stage '\(desired.stage)' description \(stage.description ?? "none") → \(desired.stageDescription ?? "none")")
                )
            }
        } else {
            steps.append(PlanStep(action: .createStage, summary: "+ create stage '\(desired.stage)'"))
        }
        // Deploy after any change, and when the stage has never been deployed (an apply stopped before it).
        if !steps.isEmpty || existing.stage?.deploymentId == nil {
            steps.append(PlanStep(action: .deploy, summary: "~ deploy stage '\(desired.stage)'"))
        }
        return Plan(desired: desired, apiId: existing.api.apiId, steps: steps)
    }

    private static func createSteps(_ route: DesiredAPI.Route, reusing integrationId: String? = nil) -> [PlanStep] {
        var steps: [PlanStep] = []
        if integrationId == nil {
            steps.append(
                PlanStep(
                    action: .createIntegration(routeKey: route.routeKey),
                    summary: "+ \(route.routeKey): integration POST \(route.integrationURI)"))
        }
        steps.append(
            PlanStep(
                action: .createRoute(routeKey: route.routeKey, integrationId: integrationId),
                summary:
                    "+ \(route.routeKey): route\(route.twoWay ? " (two-way)" : "")\(integrationId.map { " on existing integration \($0)" } ?? "")"
            ))
        if route.twoWay {
            steps.append(
                PlanStep(action: .createRouteResponse(routeKey: route.routeKey), summary: "+ \(route.routeKey): route response $default"))
        }
        return steps
    }

    /// What a step left behind, for the caller to record.
    public struct Progress: Sendable, Hashable {
        public let apiId: String
        /// The API's `wss://` endpoint, known once the API is created.
        public let apiEndpoint: String?
        /// Set by the deploy step.
        public let deploymentId: String?
        /// What the step created: the API, integration, route or deployment id.
        public let resourceId: String?
    }

    /// Performs `plan` in order. Each step reads the ids earlier steps produced; `progress` is
    /// told after each step succeeds (to record it), and the API id is returned.
    /// - Throws: the first failing step's error; steps before it stay done, and planning again
    ///   from what then exists resumes without duplicates.
    @discardableResult
    public static func apply(
        _ plan: Plan, client: ControlPlaneClient, progress: @Sendable (PlanStep, Progress) async throws -> Void = { _, _ in }
    ) async throws -> String {
        let desired = plan.desired
        var apiId = plan.apiId
        var apiEndpoint: String?
        var integrationIds: [String: String] = [:]
        var routeIds: [String: String] = [:]
        if let apiId {
            for route in try await client.getRoutes(apiId) {
                if let key = route.routeKey, let id = route.routeId { routeIds[key] = id }
            }
        }
        func integrationInput(_ route: DesiredAPI.Route) -> APIGatewayV2.Integration {
            .init(
                integrationType: "HTTP_PROXY", integrationMethod: "POST", integrationUri: route.integrationURI, connectionType: "INTERNET",
                passthroughBehavior: "WHEN_NO_MATCH", payloadFormatVersion: "1.0", requestParameters: route.requestParameters,
                timeoutInMillis: 29_000)
        }
        func route(_ key: String) -> DesiredAPI.Route { desired.routes.first { $0.routeKey == key }! }
        for step in plan.steps {
            var deploymentId: String?
            var created: String?
            switch step.action {
            case .createAPI:
                let api = try await client.createApi(
                    .init(
                        name: desired.name, protocolType: "WEBSOCKET", routeSelectionExpression: desired.routeSelectionExpression,
                        apiKeySelectionExpression: desired.apiKeySelectionExpression, description: desired.description,
                        disableSchemaValidation: true, tags: desired.tags.isEmpty ? nil : desired.tags
                    ))
                apiId = api.apiId
                apiEndpoint = api.apiEndpoint
                created = api.apiId
            case .updateAPI:
                _ = try await client.updateApi(
                    apiId!,
                    .init(
                        name: desired.name, routeSelectionExpression: desired.routeSelectionExpression,
                        apiKeySelectionExpression: desired.apiKeySelectionExpression, description: desired.description ?? ""
                    ))
            case .updateTags(let remove):
                let arn = client.apiARN(apiId!)
                if !desired.tags.isEmpty { try await client.tagResource(arn, desired.tags) }
                if !remove.isEmpty { try await client.untagResource(arn, keys: remove) }
            case .createIntegration(let key):
                integrationIds[key] = try await client.createIntegration(apiId!, integrationInput(route(key))).integrationId
                created = integrationIds[key]
            case .updateIntegration(let key, let id):
                _ = try await client.updateIntegration(apiId!, id, integrationInput(route(key)))
            case .createRoute(let key, let reused):
                let desiredRoute = route(key)
                guard let integrationId = reused ?? integrationIds[key] else {
                    throw AWSError(status: 0, code: "PlanOrder", message: "route \(key) has no integration to target")
                }
                routeIds[key] = try await client.createRoute(
                    apiId!,
                    .init(
                        routeKey: key, target: APIGatewayV2.Route.target(integrationId: integrationId),
                        routeResponseSelectionExpression: desiredRoute.twoWay ? "$default" : nil, authorizationType: "NONE"
                    )
                ).routeId
                created = routeIds[key]
            case .updateRoute(let key, let id):
                let desiredRoute = route(key)
                _ = try await client.updateRoute(
                    apiId!, id,
                    .init(
                        target: integrationIds[key].map(APIGatewayV2.Route.target(integrationId:)),
                        routeResponseSelectionExpression: desiredRoute.twoWay ? "$default" : nil
                    ))
            case .createRouteResponse(let key):
                _ = try await client.createRouteResponse(apiId!, routeIds[key]!, .init(routeResponseKey: "$default"))
            case .deleteRoute(_, let id):
                try await client.deleteRoute(apiId!, id)
            case .createStage:
                _ = try await client.createStage(apiId!, .init(stageName: desired.stage, description: desired.stageDescription))
            case .updateStage:
                _ = try await client.updateStage(apiId!, desired.stage, .init(description: desired.stageDescription ?? ""))
            case .deploy:
                deploymentId = try await client.createDeployment(
                    apiId!, .init(description: "applied by swift-apigateway-websockets", stageName: desired.stage)
                ).deploymentId
                created = deploymentId
            }
            try await progress(step, Progress(apiId: apiId!, apiEndpoint: apiEndpoint, deploymentId: deploymentId, resourceId: created))
        }
        guard let apiId else { throw AWSError(status: 0, code: "NothingApplied", message: "the plan created no API and named none") }
        return apiId
    }
}

extension Optional<String> {
    /// Nil for nil and for "": API Gateway clears a description by setting it empty.
    var nonEmpty: String? { self?.isEmpty == false ? self : nil }
}
