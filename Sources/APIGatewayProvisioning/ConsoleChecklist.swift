import APIGatewayWebSockets

extension InfrastructureExport {
    /// The `parameters.json` a person passes to `aws apigatewayv2 update-integration`: every
    /// route's integration takes the same parameters, the secret left for them to fill in.
    static func parametersFile(_ route: DesiredAPI.Route) -> String {
        let parameters = Self.parameters(route, secretReference: "<gateway secret>")
        return "{" + parameters.keys.sorted().map { "\"\($0)\": \"\(parameters[$0]!)\"" }.joined(separator: ", ") + "}"
    }

    /// A plan's changes as console steps, for someone who clicks instead of running `apply`:
    /// only what differs from the existing API, in the order `apply` would make the changes.
    public static func consoleChecklist(for plan: Plan) -> String {
        guard !plan.isEmpty else { return "Nothing to do: API Gateway matches the app's routes.\n" }
        guard let apiID = plan.apiID else { return consoleChecklist(plan.desired) }
        let desired = plan.desired
        func route(_ key: RouteKey) -> DesiredAPI.Route? { desired.routes.first { $0.routeKey == key } }
        var lines = ["In API Gateway, open API '\(desired.name)' (\(apiID)):"]
        var needsParameters: [RouteKey] = []
        let created = Set(
            plan.steps.compactMap { step -> RouteKey? in if case .createIntegration(let key) = step.action { key } else { nil } })
        for step in plan.steps {
            switch step.action {
            case .createAPI:
                break
            case .updateAPI:
                lines.append("- API settings → Edit: \(step.summary.dropFirst(6))")
            case .updateTags(let remove):
                let set = desired.tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
                lines.append(
                    "- Tags → Manage tags:" + (set.isEmpty ? "" : " set \(set);")
                        + (remove.isEmpty ? "" : " remove \(remove.joined(separator: ", "));"))
            case .createAuthorizer, .updateAuthorizer:
                if let authorizer = desired.guards.connectAuthorization.authorizer {
                    let verb = if case .createAuthorizer = step.action { "Create" } else { "'\(authorizer.name)' → Edit" }
                    lines.append(
                        "- Authorizers → \(verb): Lambda, name '\(authorizer.name)', function \(authorizer.functionARN), identity sources "
                            + authorizer.identitySource.map { "`\($0)`" }.joined(separator: ", ")
                            + "; let API Gateway invoke the function when asked.")
                }
            case .createIntegration:
                break  // created with its route below, as the console does
            case .createRoute(let key, let reused):
                let uri = route(key)?.integrationURI ?? "?"
                if let reused {
                    lines.append("- Routes → Create route `\(key)`; integration: the existing integration \(reused) (POST \(uri)).")
                } else {
                    lines.append("- Routes → Create route `\(key)`; integration: HTTP, HTTP proxy integration ON, method POST, URL \(uri).")
                    needsParameters.append(key)
                }
            case .updateIntegration(let key, _):
                lines.append(
                    "- Routes → `\(key)` → Integration request → Edit: HTTP proxy, POST, URL \(route(key)?.integrationURI ?? "?").")
                needsParameters.append(key)
            case .updateRoute(let key, _):
                if key == .connect, step.summary.contains("authorization") {
                    lines.append(
                        "- Routes → `$connect` → Route request → Edit: authorization "
                            + (Planner.authorizationSummary(desired.guards) ?? "NONE, API key not required") + ".")
                } else if created.contains(key) {
                    lines.append(
                        "- Routes → `\(key)` → Integration request → Create: HTTP proxy, POST, URL \(route(key)?.integrationURI ?? "?").")
                    needsParameters.append(key)
                } else {
                    lines.append("- Routes → `\(key)` → Route response: turn on two-way communication.")
                }
            case .createRouteResponse(let key):
                lines.append("- Routes → `\(key)` → Add integration response, then Add route response `$default`.")
            case .deleteRoute(let key, _):
                lines.append("- Routes → `\(key)` → Delete.")
            case .createStage:
                lines.append(
                    "- Stages → Create: '\(desired.stage)'\(desired.stageDescription.map { ", description \($0)" } ?? "")\(Planner.stageSummary(desired))."
                )
            case .updateStage:
                // ` (throttle …, access log → …)` as `; throttle …, access log → …`
                let settings = Planner.stageSummary(desired)
                let detail = settings.isEmpty ? "" : "; " + settings.dropFirst(2).dropLast()
                lines.append("- Stages → '\(desired.stage)' → Edit: description \(desired.stageDescription ?? "(none)")\(detail).")
            case .deploy:
                if !needsParameters.isEmpty, let first = needsParameters.first.flatMap(route) {
                    let json = parametersFile(first)
                    lines.append("- The console cannot set integration request parameters. Save this as parameters.json:")
                    lines.append("    \(json)")
                    lines.append(
                        "  then, for the integration of " + needsParameters.map { "`\($0)`" }.joined(separator: ", ")
                            + ": aws apigatewayv2 update-integration --api-id \(apiID) --integration-id <integration-id> --request-parameters file://parameters.json"
                    )
                }
                lines.append("- Deploy API → stage '\(desired.stage)'.")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The same plan as steps for someone clicking through the AWS console (and the CLI for the
    /// mappings the console cannot set).
    public static func consoleChecklist(_ desired: DesiredAPI) -> String {
        var lines = [
            "1. API Gateway → Create API → WebSocket API: name '\(desired.name)', route selection expression `\(desired.routeSelectionExpression)`.",
            "2. Add routes: " + desired.routes.map { "`\($0.routeKey)`" }.joined(separator: ", ") + ".",
            "3. For each route, attach an HTTP integration with HTTP proxy integration ON, method POST:",
        ]
        for route in desired.routes { lines.append("   - `\(route.routeKey)` → \(route.integrationURI)") }
        // Every route's integration takes the same parameters (but `$connect`'s identity mapping); a
        // file avoids quoting the quotes.
        let connect = desired.routes.first { $0.routeKey == .connect }
        let shared = desired.routes.first { $0.routeKey != .connect } ?? connect
        lines.append("4. The console cannot set integration request parameters. Save this as parameters.json:")
        lines.append("   \(shared.map(parametersFile) ?? "{}")")
        lines.append(
            "   then, for each integration: aws apigatewayv2 update-integration --api-id <api-id> --integration-id <integration-id> --request-parameters file://parameters.json"
        )
        if let connect, let shared, connect.requestParameters != shared.requestParameters {
            lines.append("   `$connect`'s integration takes these instead (they map who API Gateway let in): \(parametersFile(connect))")
        }
        if let authorizer = desired.guards.connectAuthorization.authorizer {
            lines.append(
                "   Authorizers → Create: Lambda, name '\(authorizer.name)', function \(authorizer.functionARN), identity sources "
                    + authorizer.identitySource.map { "`\($0)`" }.joined(separator: ", ") + "; let API Gateway invoke the function when asked.")
        }
        if let authorization = Planner.authorizationSummary(desired.guards) {
            lines.append("   Routes → `$connect` → Route request → Edit: authorization \(authorization).")
        }
        let twoWay = desired.routes.filter(\.twoWay)
        if !twoWay.isEmpty {
            lines.append(
                "5. Two-way routes (" + twoWay.map { "`\($0.routeKey)`" }.joined(separator: ", ")
                    + "): Add integration response, then route response `$default`.")
        }
        var step = twoWay.isEmpty ? 5 : 6
        lines.append(
            "\(step). Deploy API → new stage '\(desired.stage)'\(desired.stageDescription.map { " (description: \($0))" } ?? "")\(Planner.stageSummary(desired)).")
        if let domain = desired.customDomain {
            step += 1
            lines.append(
                "\(step). Custom domain names → Create: '\(domain.domainName)', Regional, TLS 1.2, ACM certificate \(domain.certificateARN);"
                    + " then API mappings → Configure: this API, stage '\(desired.stage)'. Point DNS at the domain's API Gateway domain name."
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
