public import APIGatewayWebSockets

/// One change the plan makes, in the order it must be made.
public struct PlanStep: Sendable, Hashable, CustomStringConvertible {
    public enum Action: Sendable, Hashable {
        case createAPI
        case updateAPI
        /// Sets the desired tags and removes `remove` (tags API Gateway reserves, `aws:…`, are left alone).
        case updateTags(remove: [String])
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
