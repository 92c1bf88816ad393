import Foundation

/// The desired API as infrastructure as code: CloudFormation (JSON or YAML) and Terraform (HCL),
/// from the same ``DesiredAPI`` the planner applies. The gateway secret is a parameter (a
/// `NoEcho` CloudFormation parameter, a sensitive Terraform variable), never written out.
public enum InfrastructureExport {
    /// Logical names for a route's resources: `Connect`, `Disconnect`, `Default`, or `Route` + the
    /// key's letters and digits with a short hash to keep distinct keys distinct.
    static func logicalName(_ routeKey: String) -> String {
        switch routeKey {
        case "$connect": return "Connect"
        case "$disconnect": return "Disconnect"
        case "$default": return "Default"
        default:
            let letters = routeKey.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) && $0.isASCII }
            var hash: UInt32 = 2_166_136_261
            for byte in routeKey.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
            let name = String(String.UnicodeScalarView(letters.prefix(40)))
            return "Route" + name.prefix(1).uppercased() + name.dropFirst() + String(hash % 10_000)
        }
    }

    /// The secret's request parameter is rewritten to use the parameter or variable.
    static func parameters(_ route: DesiredAPI.Route, secretReference: String) -> [String: String] {
        route.requestParameters.mapValues { value in
            value.hasPrefix("'") && value.hasSuffix("'") && value.count > 2 ? "'\(secretReference)'" : value
        }
    }

    // MARK: CloudFormation

    /// The CloudFormation template as a JSON-compatible dictionary.
    public static func cloudFormationTemplate(_ desired: DesiredAPI) -> [String: Any] {
        var apiProperties: [String: Any] = [
            "Name": desired.name, "ProtocolType": "WEBSOCKET", "RouteSelectionExpression": desired.routeSelectionExpression,
            "ApiKeySelectionExpression": desired.apiKeySelectionExpression, "DisableSchemaValidation": true,
        ]
        if let description = desired.description { apiProperties["Description"] = description }
        if !desired.tags.isEmpty { apiProperties["Tags"] = desired.tags }
        var resources: [String: Any] = ["WebSocketApi": ["Type": "AWS::ApiGatewayV2::Api", "Properties": apiProperties]]
        var routeNames: [String] = []
        for route in desired.routes {
            let name = logicalName(route.routeKey)
            var integrationParameters: [String: Any] = [:]
            for (key, value) in parameters(route, secretReference: "${GatewaySecret}") {
                integrationParameters[key] = value.contains("${GatewaySecret}") ? ["Fn::Sub": value] : value
            }
            resources[name + "Integration"] = [
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": [
                    "ApiId": ["Ref": "WebSocketApi"], "IntegrationType": "HTTP_PROXY", "IntegrationMethod": "POST",
                    "IntegrationUri": route.integrationURI, "PayloadFormatVersion": "1.0", "TimeoutInMillis": 29_000,
                    "PassthroughBehavior": "WHEN_NO_MATCH", "ConnectionType": "INTERNET", "RequestParameters": integrationParameters,
                ] as [String: Any],
            ]
            var routeProperties: [String: Any] = [
                "ApiId": ["Ref": "WebSocketApi"], "RouteKey": route.routeKey, "AuthorizationType": "NONE",
                "Target": ["Fn::Sub": "integrations/${\(name)Integration}"],
            ]
            if route.twoWay { routeProperties["RouteResponseSelectionExpression"] = "$default" }
            resources[name + "Route"] = ["Type": "AWS::ApiGatewayV2::Route", "Properties": routeProperties]
            routeNames.append(name + "Route")
            if route.twoWay {
                resources[name + "RouteResponse"] = [
                    "Type": "AWS::ApiGatewayV2::RouteResponse",
                    "Properties": ["ApiId": ["Ref": "WebSocketApi"], "RouteId": ["Ref": name + "Route"], "RouteResponseKey": "$default"]
                        as [String: Any],
                ]
            }
        }
        resources["Deployment"] = [
            "Type": "AWS::ApiGatewayV2::Deployment", "DependsOn": routeNames.sorted(),
            "Properties": ["ApiId": ["Ref": "WebSocketApi"]],
        ]
        var stageProperties: [String: Any] = [
            "ApiId": ["Ref": "WebSocketApi"], "StageName": desired.stage, "DeploymentId": ["Ref": "Deployment"],
        ]
        if let description = desired.stageDescription { stageProperties["Description"] = description }
        resources["Stage"] = ["Type": "AWS::ApiGatewayV2::Stage", "Properties": stageProperties]
        var outputs: [String: Any] = [
            "WebSocketURL": ["Value": ["Fn::Sub": "${WebSocketApi.ApiEndpoint}/\(desired.stage)"]],
            "ConnectionsEndpoint": [
                "Value": ["Fn::Sub": "https://${WebSocketApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/\(desired.stage)"]
            ],
        ]
        if let domain = desired.customDomain {
            resources["CustomDomain"] = [
                "Type": "AWS::ApiGatewayV2::DomainName",
                "Properties": [
                    "DomainName": domain.domainName,
                    "DomainNameConfigurations": [
                        ["CertificateArn": domain.certificateARN, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"]
                    ],
                ] as [String: Any],
            ]
            resources["CustomDomainMapping"] = [
                "Type": "AWS::ApiGatewayV2::ApiMapping", "DependsOn": ["Stage"],
                "Properties": ["ApiId": ["Ref": "WebSocketApi"], "DomainName": ["Ref": "CustomDomain"], "Stage": desired.stage]
                    as [String: Any],
            ]
            outputs["CustomDomainTarget"] = ["Value": ["Fn::GetAtt": ["CustomDomain", "RegionalDomainName"]]]
            outputs["CustomDomainHostedZoneId"] = ["Value": ["Fn::GetAtt": ["CustomDomain", "RegionalHostedZoneId"]]]
        }
        return [
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "WebSocket API '\(desired.name)' for an HTTP backend (generated by swift-apigateway-websockets)",
            "Parameters": [
                "GatewaySecret": [
                    "Type": "String", "NoEcho": true, "Description": "Sent by every integration as the gateway secret header",
                ] as [String: Any]
            ],
            "Resources": resources,
            "Outputs": outputs,
        ]
    }

    /// The template as JSON.
    public static func cloudFormationJSON(_ desired: DesiredAPI) -> String {
        let data = try! JSONSerialization.data(
            withJSONObject: cloudFormationTemplate(desired), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The template as YAML (block style, every string double-quoted).
    public static func cloudFormationYAML(_ desired: DesiredAPI) -> String {
        var out = ""
        yaml(cloudFormationTemplate(desired), indent: 0, into: &out)
        return out
    }

    private static func yaml(_ value: Any, indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent)
        if let dictionary = value as? [String: Any] {
            for key in dictionary.keys.sorted() {
                let child = dictionary[key]!
                if isScalar(child) {
                    out += "\(pad)\(key): \(scalar(child))\n"
                } else {
                    out += "\(pad)\(key):\n"
                    yaml(child, indent: indent + 1, into: &out)
                }
            }
        } else if let array = value as? [Any] {
            for item in array {
                if isScalar(item) {
                    out += "\(pad)- \(scalar(item))\n"
                } else {
                    out += "\(pad)-\n"
                    yaml(item, indent: indent + 1, into: &out)
                }
            }
        }
    }

    private static func isScalar(_ value: Any) -> Bool { !(value is [String: Any]) && !(value is [Any]) }

    private static func scalar(_ value: Any) -> String {
        switch value {
        case let bool as Bool: return bool ? "true" : "false"
        case let int as Int: return String(int)
        case let string as String:
            let data = try! JSONSerialization.data(withJSONObject: [string], options: [.withoutEscapingSlashes])
            return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
        default: return "\"\(value)\""
        }
    }

    // MARK: Terraform

    /// The Terraform (HCL) configuration for the AWS provider's `aws_apigatewayv2_*` resources.
    public static func terraform(_ desired: DesiredAPI) -> String {
        var out = """
            # WebSocket API '\(desired.name)' for an HTTP backend (generated by swift-apigateway-websockets)

            variable "gateway_secret" {
              type        = string
              sensitive   = true
              description = "Sent by every integration as the gateway secret header"
            }

            resource "aws_apigatewayv2_api" "websocket" {
              name                         = \(hcl(desired.name))
              protocol_type                = "WEBSOCKET"
              route_selection_expression   = \(hcl(desired.routeSelectionExpression))
              api_key_selection_expression = \(hcl(desired.apiKeySelectionExpression))\(desired.description.map { "\n  description                  = \(hcl($0))" } ?? "")\(hclMap("tags", desired.tags, indent: "  "))
            }

            """
        var routeAddresses: [String] = []
        for route in desired.routes {
            let name = logicalName(route.routeKey).lowercased()
            let parameters = parameters(route, secretReference: "${var.gateway_secret}")
            let parameterLines = parameters.keys.sorted().map { key -> String in
                let value = parameters[key]!
                return "    \(hcl(key)) = " + (value.contains("${var.gateway_secret}") ? "\"'${var.gateway_secret}'\"" : hcl(value))
            }.joined(separator: "\n")
            out += """

                resource "aws_apigatewayv2_integration" "\(name)" {
                  api_id                    = aws_apigatewayv2_api.websocket.id
                  integration_type          = "HTTP_PROXY"
                  integration_method        = "POST"
                  integration_uri           = \(hcl(route.integrationURI))
                  connection_type           = "INTERNET"
                  passthrough_behavior      = "WHEN_NO_MATCH"
                  payload_format_version    = "1.0"
                  timeout_milliseconds      = 29000
                  request_parameters = {
                \(parameterLines)
                  }
                }

                resource "aws_apigatewayv2_route" "\(name)" {
                  api_id             = aws_apigatewayv2_api.websocket.id
                  route_key          = \(hcl(route.routeKey))
                  authorization_type = "NONE"
                  target             = "integrations/${aws_apigatewayv2_integration.\(name).id}"\(route.twoWay ? "\n  route_response_selection_expression = \"$default\"" : "")
                }

                """
            routeAddresses.append("aws_apigatewayv2_route.\(name)")
            if route.twoWay {
                out += """

                    resource "aws_apigatewayv2_route_response" "\(name)" {
                      api_id             = aws_apigatewayv2_api.websocket.id
                      route_id           = aws_apigatewayv2_route.\(name).id
                      route_response_key = "$default"
                    }

                    """
            }
        }
        out += """

            resource "aws_apigatewayv2_deployment" "this" {
              api_id     = aws_apigatewayv2_api.websocket.id
              depends_on = [\(routeAddresses.sorted().joined(separator: ", "))]
            }

            resource "aws_apigatewayv2_stage" "this" {
              api_id        = aws_apigatewayv2_api.websocket.id
              name          = \(hcl(desired.stage))
              deployment_id = aws_apigatewayv2_deployment.this.id\(desired.stageDescription.map { "\n  description   = \(hcl($0))" } ?? "")
            }

            output "websocket_url" {
              value = "${aws_apigatewayv2_api.websocket.api_endpoint}/\(desired.stage)"
            }

            """
        if let domain = desired.customDomain {
            out += """

                resource "aws_apigatewayv2_domain_name" "this" {
                  domain_name = \(hcl(domain.domainName))
                  domain_name_configuration {
                    certificate_arn = \(hcl(domain.certificateARN))
                    endpoint_type   = "REGIONAL"
                    security_policy = "TLS_1_2"
                  }
                }

                resource "aws_apigatewayv2_api_mapping" "this" {
                  api_id      = aws_apigatewayv2_api.websocket.id
                  domain_name = aws_apigatewayv2_domain_name.this.id
                  stage       = aws_apigatewayv2_stage.this.id
                }

                output "custom_domain_target" {
                  value = aws_apigatewayv2_domain_name.this.domain_name_configuration[0].target_domain_name
                }

                """
        }
        return out
    }

    /// `name = { "k" = "v" }` on a line of its own, or nothing for an empty map.
    static func hclMap(_ name: String, _ map: [String: String], indent: String) -> String {
        guard !map.isEmpty else { return "" }
        let entries = map.keys.sorted().map { "\(indent)  \(hcl($0)) = \(hcl(map[$0]!))" }.joined(separator: "\n")
        return "\n\(indent)\(name) = {\n\(entries)\n\(indent)}"
    }

    /// A quoted HCL string: `\\`, `"` and control characters escaped, and `${`/`%{` doubled so
    /// a route selection template is not read as an interpolation.
    static func hcl(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        escaped = escaped.replacingOccurrences(of: "${", with: "$${").replacingOccurrences(of: "%{", with: "%%{")
        return "\"\(escaped)\""
    }

    // MARK: Console checklist

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
        if plan.apiId == nil { return consoleChecklist(plan.desired) }
        let desired = plan.desired
        func route(_ key: String) -> DesiredAPI.Route? { desired.routes.first { $0.routeKey == key } }
        var lines = ["In API Gateway, open API '\(desired.name)' (\(plan.apiId!)):"]
        var needsParameters: [String] = []
        let created = Set(
            plan.steps.compactMap { step -> String? in if case .createIntegration(let key) = step.action { key } else { nil } })
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
                if created.contains(key) {
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
                lines.append("- Stages → Create: '\(desired.stage)'\(desired.stageDescription.map { ", description \($0)" } ?? "").")
            case .updateStage:
                lines.append("- Stages → '\(desired.stage)' → Edit: description \(desired.stageDescription ?? "(none)").")
            case .deploy:
                if !needsParameters.isEmpty, let first = needsParameters.first.flatMap(route) {
                    let json = parametersFile(first)
                    lines.append("- The console cannot set integration request parameters. Save this as parameters.json:")
                    lines.append("    \(json)")
                    lines.append(
                        "  then, for the integration of " + needsParameters.map { "`\($0)`" }.joined(separator: ", ")
                            + ": aws apigatewayv2 update-integration --api-id \(plan.apiId!) --integration-id <integration-id> --request-parameters file://parameters.json"
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
        // Every route's integration takes the same parameters; a file avoids quoting the quotes.
        let json = desired.routes.first.map(parametersFile) ?? "{}"
        lines.append("4. The console cannot set integration request parameters. Save this as parameters.json:")
        lines.append("   \(json)")
        lines.append(
            "   then, for each integration: aws apigatewayv2 update-integration --api-id <api-id> --integration-id <integration-id> --request-parameters file://parameters.json"
        )
        let twoWay = desired.routes.filter(\.twoWay)
        if !twoWay.isEmpty {
            lines.append(
                "5. Two-way routes (" + twoWay.map { "`\($0.routeKey)`" }.joined(separator: ", ")
                    + "): Add integration response, then route response `$default`.")
        }
        var step = twoWay.isEmpty ? 5 : 6
        lines.append("\(step). Deploy API → new stage '\(desired.stage)'\(desired.stageDescription.map { " (description: \($0))" } ?? "").")
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
