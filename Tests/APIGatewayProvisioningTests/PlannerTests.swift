import APIGatewayAWS
import APIGatewayProvisioning
import APIGatewayWebSockets
import AsyncHTTPClient
import PeerSupport
import Testing

/// The pure planner on fixtures: what API Gateway holds, written out by hand, against what the
/// app wants; no server.
@Suite struct PlannerTests {
    let valid = GatewaySettings(name: "chat", targetBaseURL: "https://backend.example.com")
    let registered = [
        RegisteredRoute(routeKey: .connect, path: "/ws/connect", event: .connect),
        RegisteredRoute(routeKey: .default, path: "/ws/default", event: .message),
        RegisteredRoute(routeKey: "notifications", path: "/ws/notifications", event: .message),
    ]

    var desired: DesiredAPI {
        DesiredAPI(
            name: "chat", stage: "production", routes: registered, publicBaseURL: "https://backend.example.com", secret: "s",
            twoWayRouteKeys: ["notifications"])
    }

    /// What an apply of `desired` leaves: the API, an integration and route per route, the
    /// two-way route's response, a deployed stage.
    func applied(_ desired: DesiredAPI) -> ExistingAPI {
        var api = APIGatewayV2.Api(
            name: desired.name, routeSelectionExpression: desired.routeSelectionExpression,
            apiKeySelectionExpression: desired.apiKeySelectionExpression)
        api.apiId = "abc123"
        var integrations: [APIGatewayV2.Integration] = []
        var routes: [APIGatewayV2.Route] = []
        var responses: [String: [APIGatewayV2.RouteResponse]] = [:]
        for (index, route) in desired.routes.enumerated() {
            var integration = APIGatewayV2.Integration(
                integrationType: "HTTP_PROXY", integrationMethod: "POST", integrationUri: route.integrationURI,
                requestParameters: route.requestParameters)
            integration.integrationId = "i\(index)"
            integrations.append(integration)
            var created = APIGatewayV2.Route(
                routeKey: route.routeKey.rawValue, target: APIGatewayV2.Route.target(integrationId: "i\(index)"),
                routeResponseSelectionExpression: route.twoWay ? "$default" : nil)
            created.routeId = "r\(index)"
            routes.append(created)
            if route.twoWay { responses["r\(index)"] = [APIGatewayV2.RouteResponse(routeResponseKey: "$default")] }
        }
        var stage = APIGatewayV2.Stage(stageName: desired.stage)
        stage.deploymentId = "d1"
        return ExistingAPI(api: api, integrations: integrations, routes: routes, routeResponses: responses, stage: stage)
    }

    /// A two-way controller's route is two-way in the plan, with no option naming it; turning it
    /// two-way on an existing API updates the route and adds its response.
    @Test func aTwoWayControllersRouteIsTwoWay() throws {
        var routes = registered
        routes[1] = RegisteredRoute(routeKey: .default, path: "/ws/default", event: .message, twoWay: true)
        let desired = DesiredAPI(name: "chat", stage: "production", routes: routes, publicBaseURL: "https://backend.example.com", secret: "s")
        #expect(desired.routes.filter(\.twoWay).map(\.routeKey) == [.default])
        #expect(RegisteredRoute(routeKey: .connect, path: "/ws/connect", event: .connect, twoWay: true).twoWay == false, "only messages are")
        let wasOneWay = applied(
            DesiredAPI(name: "chat", stage: "production", routes: registered, publicBaseURL: "https://backend.example.com", secret: "s"))
        let plan = try Planner.plan(desired, existing: wasOneWay)
        let routeID = try #require(wasOneWay.routes.first { $0.routeKey == "$default" }?.routeId)
        #expect(plan.steps.map(\.action).contains(.updateRoute(routeKey: .default, routeId: routeID)))
        #expect(plan.steps.map(\.action).contains(.createRouteResponse(routeKey: .default)))
        #expect(try Planner.plan(desired, existing: applied(desired)).steps.isEmpty, "once applied, nothing to do")
    }

    @Test func fromNothingEveryResourceInOrder() throws {
        let plan = try Planner.plan(desired, existing: nil)
        #expect(plan.apiID == nil)
        #expect(
            plan.steps.map(\.action) == [
                .createAPI,
                .createIntegration(routeKey: .connect), .createRoute(routeKey: .connect, integrationId: nil),
                .createIntegration(routeKey: .default), .createRoute(routeKey: .default, integrationId: nil),
                .createIntegration(routeKey: "notifications"), .createRoute(routeKey: "notifications", integrationId: nil),
                .createRouteResponse(routeKey: "notifications"),
                .createStage, .deploy,
            ])
    }

    @Test func whatAnApplyLeftPlansNothing() throws {
        let plan = try Planner.plan(desired, existing: applied(desired))
        #expect(plan.isEmpty, "\(plan)")
        #expect(plan.apiID?.rawValue == "abc123")
    }

    @Test func anIntegrationAStoppedApplyLeftIsReusedNotDuplicated() throws {
        var existing = applied(desired)
        existing.routes.removeAll { $0.routeKey == "$default" }  // the apply stopped after the integration
        let plan = try Planner.plan(desired, existing: existing)
        #expect(plan.steps.map(\.action) == [.createRoute(routeKey: .default, integrationId: "i1"), .deploy])
    }

    // A stopped apply's integration was reused if its URI matched, whatever its parameters: after
    // a secret rotation it kept sending the old secret and every event was refused.
    @Test func aReusedIntegrationWithOldParametersIsUpdated() throws {
        var existing = applied(desired)
        existing.routes.removeAll { $0.routeKey == "$default" }
        existing.integrations[1].requestParameters?["integration.request.header.X-Ws-Gateway-Secret"] = "'old-secret'"
        let plan = try Planner.plan(desired, existing: existing)
        #expect(
            plan.steps.map(\.action) == [
                .updateIntegration(routeKey: .default, integrationId: "i1"), .createRoute(routeKey: .default, integrationId: "i1"), .deploy,
            ])
    }

    @Test func aMovedBackendUpdatesIntegrationsInPlaceAndAForgottenRouteIsDeleted() throws {
        var existing = applied(desired)
        existing.integrations[0].integrationUri = "https://old.example.com/ws/connect"
        var stray = APIGatewayV2.Route(routeKey: "billing", target: "integrations/i9")
        stray.routeId = "r9"
        existing.routes.append(stray)
        let plan = try Planner.plan(desired, existing: existing)
        #expect(
            plan.steps.map(\.action) == [
                .updateIntegration(routeKey: .connect, integrationId: "i0"), .deleteRoute(routeKey: "billing", routeId: "r9"), .deploy,
            ])
    }

    @Test func aStageNeverDeployedIsDeployed() throws {
        var existing = applied(desired)
        existing.stage?.deploymentId = nil
        #expect(try Planner.plan(desired, existing: existing).steps.map(\.action) == [.deploy])
        existing.stage = nil
        #expect(try Planner.plan(desired, existing: existing).steps.map(\.action) == [.createStage, .deploy])
    }

    // `Planner.plan` force-unwrapped the API id of what it read, and the applier `apiId!` of a
    // create answer: an answer without one trapped.
    @Test func anAPIWithoutAnIdIsAnErrorNotATrap() async throws {
        var existing = applied(desired)
        existing.api.apiId = nil
        #expect(throws: ProvisioningError.self) { try Planner.plan(desired, existing: existing) }
        let server = try await LoopbackServer { _ in .init(status: 201, body: #"{"name":"chat"}"#) }
        let client = ControlPlaneClient(
            httpClient: .shared, credentials: StaticCredentialProvider(Credential(accessKeyID: "AKIDTEST", secretAccessKey: "s")),
            region: "us-east-1", endpoint: server.url)
        let error = await #expect(throws: ProvisioningError.self) {
            try await Planner.apply(try Planner.plan(desired, existing: nil), client: client)
        }
        #expect(error?.code == .internalFault && error?.description.contains("without the API id") == true, "\(String(describing: error))")
        try await server.close()
    }

    /// Tags follow the record; AWS's reserved `aws:` tags (CloudFormation's) are neither
    /// compared nor removed.
    @Test func plannerKeepsTagsInStepButLeavesAWSTagsAlone() throws {
        var settings = valid
        settings.tags = ["team": "chat"]
        var api = APIGatewayV2.Api(
            name: "chat", routeSelectionExpression: "$request.body.action", apiKeySelectionExpression: "$request.header.x-api-key")
        api.apiId = "abc"
        api.tags = ["aws:cloudformation:stack-name": "ws", "team": "chat"]
        var stage = APIGatewayV2.Stage(stageName: "production")
        stage.deploymentId = "d1"
        func plan() throws -> Plan {
            try Planner.plan(
                try DesiredAPI(settings: settings, routes: [], secret: nil),
                existing: ExistingAPI(api: api, integrations: [], routes: [], routeResponses: [:], stage: stage))
        }
        #expect(try plan().isEmpty)
        api.tags?["old"] = "x"
        settings.tags = ["team": "web"]
        let changed = try plan()
        #expect(changed.steps.map(\.action) == [.updateTags(remove: ["old"]), .deploy])
        #expect(changed.steps[0].summary == "~ tags old=x,team=chat → team=web")
    }

    @Test func plannerUpdatesTheAPIAndStageWhenSettingsChange() throws {
        var settings = valid
        settings.description = "new description"
        settings.stageDescription = "new stage"
        let desired = try DesiredAPI(settings: settings, routes: [], secret: nil)
        var api = APIGatewayV2.Api(
            name: "chat", routeSelectionExpression: "$request.body.action", apiKeySelectionExpression: "$request.header.x-api-key")
        api.apiId = "abc"
        var stage = APIGatewayV2.Stage(stageName: "production", description: "")
        stage.deploymentId = "d1"
        let existing = ExistingAPI(api: api, integrations: [], routes: [], routeResponses: [:], stage: stage)
        let plan = try Planner.plan(desired, existing: existing)
        #expect(plan.steps.map(\.action) == [.updateAPI, .updateStage, .deploy])
        #expect(plan.steps[0].summary == "~ API description none → new description")
        let clicks = InfrastructureExport.consoleChecklist(for: plan)
        #expect(clicks.contains("- API settings → Edit: description none → new description"))
        #expect(
            clicks.contains("- Stages → 'production' → Edit: description new stage.")
                && clicks.contains("- Deploy API → stage 'production'."))

        // An empty description is no description: nothing to change.
        api.description = ""
        settings.description = nil
        settings.stageDescription = nil
        let same = try Planner.plan(
            try DesiredAPI(settings: settings, routes: [], secret: nil),
            existing: ExistingAPI(api: api, integrations: [], routes: [], routeResponses: [:], stage: stage))
        #expect(same.isEmpty, "\(same)")
    }
}
