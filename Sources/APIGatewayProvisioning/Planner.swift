import APIGatewayAWS
import APIGatewayWebSockets

/// Turns the app's routes into API Gateway's routes, integrations and stage: `plan` shows the
/// difference, `apply` performs it. Both doors (commands, admin) and the IaC exports share it.
public enum Planner {
    /// The steps that make `existing` (nil: no API yet) match `desired`. Routes API Gateway has
    /// that the app does not are deleted; integrations are updated in place.
    public static func plan(_ desired: DesiredAPI, existing: ExistingAPI?) throws(ProvisioningError) -> Plan {
        var steps: [PlanStep] = []
        guard let existing else {
            steps.append(
                PlanStep(action: .createAPI, summary: "+ create WebSocket API '\(desired.name)' (\(desired.routeSelectionExpression))"))
            for route in desired.routes { steps += createSteps(route) }
            steps.append(PlanStep(action: .createStage, summary: "+ create stage '\(desired.stage)'"))
            steps.append(PlanStep(action: .deploy, summary: "~ deploy stage '\(desired.stage)'"))
            return Plan(desired: desired, apiID: nil, steps: steps, existing: nil)
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
            guard let current = existing.route(route.routeKey), let routeId = current.routeId else {
                // An integration a stopped apply created for this route is reused, not duplicated.
                if let index = orphans.firstIndex(where: { $0.integrationUri == route.integrationURI }),
                    let id = orphans[index].integrationId
                {
                    let orphan = orphans.remove(at: index)
                    if (orphan.requestParameters ?? [:]) != route.requestParameters {
                        // Left with other parameters (the secret has rotated since): brought up to date first.
                        steps.append(
                            PlanStep(
                                action: .updateIntegration(routeKey: route.routeKey, integrationId: id),
                                summary: "~ \(route.routeKey): integration → POST \(route.integrationURI) (request parameters changed)"))
                    }
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
                steps.append(createIntegration(route))
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
        for route in existing.routes where !desired.routes.contains(where: { $0.routeKey.rawValue == route.routeKey }) {
            if let raw = route.routeKey, let key = try? RouteKey(raw), let id = route.routeId {
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
        guard let raw = existing.api.apiId, let apiID = try? APIID(raw) else {
            throw .invalid(field: "apiId", "API Gateway answered an API without a valid id")
        }
        return Plan(desired: desired, apiID: apiID, steps: steps, existing: existing)
    }

    private static func createIntegration(_ route: DesiredAPI.Route) -> PlanStep {
        PlanStep(
            action: .createIntegration(routeKey: route.routeKey), summary: "+ \(route.routeKey): integration POST \(route.integrationURI)")
    }

    private static func createSteps(_ route: DesiredAPI.Route, reusing integrationId: String? = nil) -> [PlanStep] {
        var steps: [PlanStep] = []
        if integrationId == nil { steps.append(createIntegration(route)) }
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
}

extension Optional<String> {
    /// Nil for nil and for "": API Gateway clears a description by setting it empty.
    var nonEmpty: String? { self?.isEmpty == false ? self : nil }
}
