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
            if let authorizer = desired.guards.connectAuthorization.authorizer {
                steps.append(PlanStep(action: .createAuthorizer, summary: "+ authorizer \(describe(authorizer))"))
            }
            for route in desired.routes { steps += createSteps(route, guards: desired.guards) }
            steps.append(PlanStep(action: .createStage, summary: "+ create stage '\(desired.stage)'" + stageSummary(desired)))
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
        if let authorizer = desired.guards.connectAuthorization.authorizer {
            // Unread, an authorizer of that name cannot be told apart from none: planning would
            // create it again on every apply.
            guard existing.authorizers != nil else {
                throw .invalid(
                    field: "authorizers",
                    "the API's authorizers were not read: read it with ExistingAPI.read(_:stage:client:for:) passing the desired API")
            }
            if let current = existing.authorizer(named: authorizer.name), let id = current.authorizerId {
                if current.authorizerUri != authorizer.authorizerURI || (current.identitySource ?? []) != authorizer.identitySource
                    || current.authorizerType != "REQUEST"
                {
                    steps.append(PlanStep(action: .updateAuthorizer(authorizerId: id), summary: "~ authorizer \(describe(authorizer))"))
                }
            } else {
                steps.append(PlanStep(action: .createAuthorizer, summary: "+ authorizer \(describe(authorizer))"))
            }
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
                    steps += createSteps(route, guards: desired.guards, reusing: id)
                } else {
                    steps += createSteps(route, guards: desired.guards)
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
            if route.routeKey == .connect, let change = authorizationChange(current, desired.guards, existing) {
                steps.append(PlanStep(action: .updateRoute(routeKey: route.routeKey, routeId: routeId), summary: "~ $connect: \(change)"))
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
            var changes: [String] = []
            if stage.description.nonEmpty != desired.stageDescription.nonEmpty {
                changes.append("description \(stage.description ?? "none") → \(desired.stageDescription ?? "none")")
            }
            changes += stageSettingChanges(stage, desired)
            if !changes.isEmpty {
                steps.append(PlanStep(action: .updateStage, summary: "~ stage '\(desired.stage)' " + changes.joined(separator: ", ")))
            }
        } else {
            steps.append(PlanStep(action: .createStage, summary: "+ create stage '\(desired.stage)'" + stageSummary(desired)))
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

    private static func createSteps(_ route: DesiredAPI.Route, guards: DesiredAPI.Guards, reusing integrationId: String? = nil) -> [PlanStep] {
        var steps: [PlanStep] = []
        if integrationId == nil { steps.append(createIntegration(route)) }
        let authorization = route.routeKey == .connect ? authorizationSummary(guards).map { " (\($0))" } ?? "" : ""
        steps.append(
            PlanStep(
                action: .createRoute(routeKey: route.routeKey, integrationId: integrationId),
                summary:
                    "+ \(route.routeKey): route\(route.twoWay ? " (two-way)" : "")\(authorization)\(integrationId.map { " on existing integration \($0)" } ?? "")"
            ))
        if route.twoWay {
            steps.append(
                PlanStep(action: .createRouteResponse(routeKey: route.routeKey), summary: "+ \(route.routeKey): route response $default"))
        }
        return steps
    }
}

extension Planner {
    static func describe(_ authorizer: DesiredAPI.Authorizer) -> String {
        "'\(authorizer.name)' (REQUEST, Lambda \(authorizer.functionARN), identity \(authorizer.identitySource.joined(separator: ", ")))"
    }

    /// `AWS_IAM, API key required`, or nil for a `$connect` anyone may open.
    static func authorizationSummary(_ guards: DesiredAPI.Guards) -> String? {
        var parts: [String] = []
        switch guards.connectAuthorization {
        case .none: break
        case .iam: parts.append("AWS_IAM")
        case .authorizer(let authorizer): parts.append("CUSTOM authorizer '\(authorizer.name)'")
        }
        if guards.apiKeyRequired { parts.append("API key required") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    /// What changes in `$connect`'s authorization, or nil.
    static func authorizationChange(_ route: APIGatewayV2.Route, _ guards: DesiredAPI.Guards, _ existing: ExistingAPI) -> String? {
        let type = route.authorizationType ?? "NONE"
        let keyNow = route.apiKeyRequired ?? false
        var sameAuthorizer = true
        if let authorizer = guards.connectAuthorization.authorizer {
            sameAuthorizer = route.authorizerId != nil && existing.authorizer(named: authorizer.name)?.authorizerId == route.authorizerId
        }
        guard type != guards.connectAuthorization.authorizationType || keyNow != guards.apiKeyRequired || !sameAuthorizer else { return nil }
        let now = type + (keyNow ? ", API key required" : "")
        return "authorization \(now) → \(authorizationSummary(guards) ?? "NONE")"
    }

    /// ` (throttle 50/s burst 100, $default 5/s burst 10, access log → ws-access)`, or "".
    static func stageSummary(_ desired: DesiredAPI) -> String {
        var parts: [String] = []
        if let throttle = desired.guards.defaultThrottle { parts.append("throttle \(describe(throttle))") }
        for (key, throttle) in desired.guards.routeThrottles.sorted(by: { $0.key < $1.key }) {
            parts.append("\(key) \(describe(throttle))")
        }
        if let log = desired.guards.accessLog { parts.append("access log → \(log.logGroupName)") }
        return parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))"
    }

    static func describe(_ throttle: DesiredAPI.Throttle) -> String {
        let rate = Int(exactly: throttle.rate).map(String.init) ?? String(throttle.rate)
        return "\(rate)/s burst \(throttle.burst)"
    }

    /// The stage's throttles and access log where they differ from the desired ones.
    static func stageSettingChanges(_ stage: APIGatewayV2.Stage, _ desired: DesiredAPI) -> [String] {
        func throttle(_ settings: APIGatewayV2.RouteSettings?) -> DesiredAPI.Throttle? {
            guard let rate = settings?.throttlingRateLimit, let burst = settings?.throttlingBurstLimit else { return nil }
            return DesiredAPI.Throttle(rate: rate, burst: burst)
        }
        var changes: [String] = []
        let guards = desired.guards
        if throttle(stage.defaultRouteSettings) != guards.defaultThrottle, guards.defaultThrottle != nil {
            changes.append("throttle → \(describe(guards.defaultThrottle!))")
        }
        for (key, wanted) in guards.routeThrottles.sorted(by: { $0.key < $1.key })
        where throttle(stage.routeSettings?[key.rawValue]) != wanted {
            changes.append("\(key) throttle → \(describe(wanted))")
        }
        if let log = guards.accessLog,
            stage.accessLogSettings?.format != log.format || stage.accessLogSettings?.destinationArn != log.destinationARN
        {
            changes.append("access log → \(log.logGroupName)")
        }
        return changes
    }

    /// The stage's settings as API Gateway takes them.
    static func stageInput(_ desired: DesiredAPI) -> APIGatewayV2.Stage {
        let guards = desired.guards
        return APIGatewayV2.Stage(
            stageName: nil, description: desired.stageDescription ?? "",
            defaultRouteSettings: guards.defaultThrottle.map { .init(throttlingBurstLimit: $0.burst, throttlingRateLimit: $0.rate) },
            routeSettings: guards.routeThrottles.isEmpty
                ? nil
                : Dictionary(
                    uniqueKeysWithValues: guards.routeThrottles.map {
                        ($0.key.rawValue, APIGatewayV2.RouteSettings(throttlingBurstLimit: $0.value.burst, throttlingRateLimit: $0.value.rate))
                    }),
            accessLogSettings: guards.accessLog.map { .init(destinationArn: $0.destinationARN, format: $0.format) })
    }
}

extension Optional<String> {
    /// Nil for nil and for "": API Gateway clears a description by setting it empty.
    var nonEmpty: String? { self?.isEmpty == false ? self : nil }
}
