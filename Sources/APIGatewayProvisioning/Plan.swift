public import APIGatewayWebSockets

/// One change the plan makes, in the order it must be made.
public struct PlanStep: Sendable, Hashable, CustomStringConvertible {
    public enum Action: Sendable, Hashable {
        case createAPI
        case updateAPI
        /// Sets the desired tags and removes `remove` (tags API Gateway reserves, `aws:…`, are left alone).
        case updateTags(remove: [String])
        /// The `$connect` authorizer (``DesiredAPI/Guards``), made before the route that uses it.
        case createAuthorizer
        case updateAuthorizer(authorizerId: String)
        case createIntegration(routeKey: RouteKey)
        case updateIntegration(routeKey: RouteKey, integrationId: String)
        /// With the id of an existing, untargeted integration to reuse (an apply that stopped half-way).
        case createRoute(routeKey: RouteKey, integrationId: String?)
        case updateRoute(routeKey: RouteKey, routeId: String)
        case createRouteResponse(routeKey: RouteKey)
        case deleteRoute(routeKey: RouteKey, routeId: String)
        case createStage
        case updateStage
        case deploy
    }

    public let action: Action
    /// One line a person reads in `gateway plan`.
    public let summary: String

    public var description: String { summary }

    /// Whether the step deletes something in API Gateway (`gateway apply` asks first).
    public var isDeletion: Bool {
        if case .deleteRoute = action { true } else { false }
    }

    /// The step's kind as scripts read it: `create-api`, `delete-route`, `deploy` …
    public var kind: String {
        switch action {
        case .createAPI: "create-api"
        case .updateAPI: "update-api"
        case .updateTags: "update-tags"
        case .createAuthorizer: "create-authorizer"
        case .updateAuthorizer: "update-authorizer"
        case .createIntegration: "create-integration"
        case .updateIntegration: "update-integration"
        case .createRoute: "create-route"
        case .updateRoute: "update-route"
        case .createRouteResponse: "create-route-response"
        case .deleteRoute: "delete-route"
        case .createStage: "create-stage"
        case .updateStage: "update-stage"
        case .deploy: "deploy"
        }
    }

    /// The route key the step is about, if any.
    public var routeKey: RouteKey? {
        switch action {
        case .createIntegration(let key), .updateIntegration(let key, _), .createRoute(let key, _), .updateRoute(let key, _),
            .createRouteResponse(let key), .deleteRoute(let key, _):
            key
        default: nil
        }
    }
}

/// A plan as scripts read it (`gateway plan --format json`):
/// `{"api":"chat","apiId":"abc123defg","stage":"production","changes":[{"kind":"create-route","routeKey":"billing","summary":"…"}],"deletions":0}`.
public struct PlanDocument: Codable, Sendable, Hashable {
    public struct Change: Codable, Sendable, Hashable {
        public var kind: String
        public var routeKey: String?
        public var summary: String
    }

    public var api: String
    public var apiId: String?
    public var stage: String
    public var changes: [Change]
    public var deletions: Int

    public init(_ plan: Plan) {
        api = plan.desired.name
        apiId = plan.apiID?.rawValue
        stage = plan.desired.stage
        changes = plan.steps.map { Change(kind: $0.kind, routeKey: $0.routeKey?.rawValue, summary: $0.summary) }
        deletions = plan.steps.filter(\.isDeletion).count
    }
}

/// The difference between the desired API and what exists, as ordered steps.
public struct Plan: Sendable, CustomStringConvertible {
    public let desired: DesiredAPI
    /// The API the plan changes; `nil` when it creates one.
    public let apiID: APIID?
    public let steps: [PlanStep]
    /// What API Gateway held when the plan was made: the applier starts from it instead of
    /// reading it again.
    public let existing: ExistingAPI?

    public var isEmpty: Bool { steps.isEmpty }

    public var description: String {
        guard !steps.isEmpty else { return "No changes: API Gateway matches the app's routes." }
        return
            (["Plan for API '\(desired.name)'\(apiID.map { " (\($0))" } ?? ""), stage '\(desired.stage)':"]
            + steps.map { "  \($0.summary)" } + ["\(steps.count) change(s)."]).joined(separator: "\n")
    }
}
