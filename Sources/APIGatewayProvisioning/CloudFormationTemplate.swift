import APIGatewayWebSockets
import Foundation
import Yams

/// A CloudFormation template: the desired API as `AWS::ApiGatewayV2::*` resources, encoded as
/// JSON by `JSONEncoder` or as YAML by Yams, keys sorted so one API is always the same text.
public struct CloudFormationTemplate: Encodable, Sendable, Hashable {
    /// A template value: a scalar, a list, a map, or an intrinsic function (`Ref`, `Fn::Sub`,
    /// `Fn::GetAtt`, which are maps of one key in the long form both formats accept).
    public indirect enum Value: Encodable, Sendable, Hashable, ExpressibleByStringLiteral {
        case string(String)
        case int(Int)
        case double(Double)
        case bool(Bool)
        case list([Value])
        case map([String: Value])

        public init(stringLiteral value: String) { self = .string(value) }

        public static func ref(_ logicalName: String) -> Value { .map(["Ref": .string(logicalName)]) }
        public static func sub(_ template: String) -> Value { .map(["Fn::Sub": .string(template)]) }
        public static func getAtt(_ logicalName: String, _ attribute: String) -> Value {
            .map(["Fn::GetAtt": .list([.string(logicalName), .string(attribute)])])
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let value): try container.encode(value)
            case .int(let value): try container.encode(value)
            case .double(let value): try container.encode(value)
            case .bool(let value): try container.encode(value)
            case .list(let values): try container.encode(values)
            case .map(let values): try container.encode(values)
            }
        }
    }

    public struct Parameter: Encodable, Sendable, Hashable {
        public var type: String
        public var noEcho: Bool?
        public var description: String?

        enum CodingKeys: String, CodingKey {
            case type = "Type", noEcho = "NoEcho", description = "Description"
        }
    }

    public struct Resource: Encodable, Sendable, Hashable {
        public var type: String
        public var dependsOn: [String]?
        public var properties: [String: Value]

        enum CodingKeys: String, CodingKey {
            case type = "Type", dependsOn = "DependsOn", properties = "Properties"
        }
    }

    public struct Output: Encodable, Sendable, Hashable {
        public var value: Value

        enum CodingKeys: String, CodingKey { case value = "Value" }
    }

    public var formatVersion = "2010-09-09"
    public var description: String
    public var parameters: [String: Parameter]
    public var resources: [String: Resource]
    public var outputs: [String: Output]

    enum CodingKeys: String, CodingKey {
        case formatVersion = "AWSTemplateFormatVersion", description = "Description", parameters = "Parameters"
        case resources = "Resources", outputs = "Outputs"
    }

    /// The template as JSON, pretty-printed.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// The template as YAML.
    public func yaml() throws -> String {
        let encoder = YAMLEncoder()
        encoder.options = YAMLEncoder.Options(sortKeys: true)
        return try encoder.encode(self)
    }
}

extension InfrastructureExport {
    /// The desired API as a CloudFormation template. The gateway secret is the `NoEcho`
    /// parameter `GatewaySecret`, never written out.
    public static func cloudFormationTemplate(_ desired: DesiredAPI) -> CloudFormationTemplate {
        typealias Value = CloudFormationTemplate.Value
        typealias Resource = CloudFormationTemplate.Resource
        let api = Value.ref("WebSocketApi")
        var apiProperties: [String: Value] = [
            "Name": .string(desired.name), "ProtocolType": "WEBSOCKET",
            "RouteSelectionExpression": .string(desired.routeSelectionExpression),
            "ApiKeySelectionExpression": .string(desired.apiKeySelectionExpression), "DisableSchemaValidation": .bool(true),
        ]
        if let description = desired.description { apiProperties["Description"] = .string(description) }
        if !desired.tags.isEmpty { apiProperties["Tags"] = .map(desired.tags.mapValues(Value.string)) }
        var resources = ["WebSocketApi": Resource(type: "AWS::ApiGatewayV2::Api", properties: apiProperties)]
        var routeNames: [String] = []
        for route in desired.routes {
            let name = logicalName(route.routeKey)
            let requestParameters = parameters(route, secretReference: "${GatewaySecret}").mapValues { value -> Value in
                value.contains("${GatewaySecret}") ? .sub(value) : .string(value)
            }
            resources[name + "Integration"] = Resource(
                type: "AWS::ApiGatewayV2::Integration",
                properties: [
                    "ApiId": api, "IntegrationType": "HTTP_PROXY", "IntegrationMethod": "POST",
                    "IntegrationUri": .string(route.integrationURI),
                    "PayloadFormatVersion": "1.0", "TimeoutInMillis": .int(29_000), "PassthroughBehavior": "WHEN_NO_MATCH",
                    "ConnectionType": "INTERNET", "RequestParameters": .map(requestParameters),
                ])
            var routeProperties: [String: Value] = [
                "ApiId": api, "RouteKey": .string(route.routeKey.rawValue), "AuthorizationType": "NONE",
                "Target": .sub("integrations/${\(name)Integration}"),
            ]
            if route.routeKey == .connect {
                routeProperties["AuthorizationType"] = .string(desired.guards.connectAuthorization.authorizationType)
                if desired.guards.connectAuthorization.authorizer != nil { routeProperties["AuthorizerId"] = .ref("ConnectAuthorizer") }
                if desired.guards.apiKeyRequired { routeProperties["ApiKeyRequired"] = .bool(true) }
            }
            if route.twoWay { routeProperties["RouteResponseSelectionExpression"] = "$default" }
            resources[name + "Route"] = Resource(type: "AWS::ApiGatewayV2::Route", properties: routeProperties)
            routeNames.append(name + "Route")
            if route.twoWay {
                resources[name + "RouteResponse"] = Resource(
                    type: "AWS::ApiGatewayV2::RouteResponse",
                    properties: ["ApiId": api, "RouteId": .ref(name + "Route"), "RouteResponseKey": "$default"])
            }
        }
        resources["Deployment"] = Resource(
            type: "AWS::ApiGatewayV2::Deployment", dependsOn: routeNames.sorted(), properties: ["ApiId": api])
        var stageProperties: [String: Value] = ["ApiId": api, "StageName": .string(desired.stage), "DeploymentId": .ref("Deployment")]
        if let description = desired.stageDescription { stageProperties["Description"] = .string(description) }
        addGuards(desired, api: api, resources: &resources, stage: &stageProperties)
        resources["Stage"] = Resource(type: "AWS::ApiGatewayV2::Stage", properties: stageProperties)
        var outputs: [String: CloudFormationTemplate.Output] = [
            "WebSocketURL": .init(value: .sub("${WebSocketApi.ApiEndpoint}/\(desired.stage)")),
            "ConnectionsEndpoint": .init(
                value: .sub("https://${WebSocketApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/\(desired.stage)")),
        ]
        if let domain = desired.customDomain {
            resources["CustomDomain"] = Resource(
                type: "AWS::ApiGatewayV2::DomainName",
                properties: [
                    "DomainName": .string(domain.domainName),
                    "DomainNameConfigurations": .list([
                        .map(["CertificateArn": .string(domain.certificateARN), "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"])
                    ]),
                ])
            resources["CustomDomainMapping"] = Resource(
                type: "AWS::ApiGatewayV2::ApiMapping", dependsOn: ["Stage"],
                properties: ["ApiId": api, "DomainName": .ref("CustomDomain"), "Stage": .string(desired.stage)])
            outputs["CustomDomainTarget"] = .init(value: .getAtt("CustomDomain", "RegionalDomainName"))
            outputs["CustomDomainHostedZoneId"] = .init(value: .getAtt("CustomDomain", "RegionalHostedZoneId"))
        }
        return CloudFormationTemplate(
            description: "WebSocket API '\(desired.name)' for an HTTP backend (generated by swift-apigateway-websockets)",
            parameters: [
                "GatewaySecret": .init(type: "String", noEcho: true, description: "Sent by every integration as the gateway secret header")
            ],
            resources: resources, outputs: outputs)
    }

    /// The authorizer with the permission to invoke its function, the stage's throttles and
    /// access log (with its log group), and the deploying and running IAM policies.
    private static func addGuards(
        _ desired: DesiredAPI, api: CloudFormationTemplate.Value, resources: inout [String: CloudFormationTemplate.Resource],
        stage: inout [String: CloudFormationTemplate.Value]
    ) {
        typealias Value = CloudFormationTemplate.Value
        typealias Resource = CloudFormationTemplate.Resource
        let guards = desired.guards
        if let authorizer = guards.connectAuthorization.authorizer {
            resources["ConnectAuthorizer"] = Resource(
                type: "AWS::ApiGatewayV2::Authorizer",
                properties: [
                    "ApiId": api, "AuthorizerType": "REQUEST", "Name": .string(authorizer.name),
                    "AuthorizerUri": .sub(
                        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/\(authorizer.functionARN)/invocations"),
                    "IdentitySource": .list(authorizer.identitySource.map(Value.string)),
                ])
            resources["ConnectAuthorizerPermission"] = Resource(
                type: "AWS::Lambda::Permission",
                properties: [
                    "Action": "lambda:InvokeFunction", "FunctionName": .string(authorizer.functionARN),
                    "Principal": "apigateway.amazonaws.com",
                    "SourceArn": .sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/authorizers/${ConnectAuthorizer}"),
                ])
        }
        func settings(_ throttle: DesiredAPI.Throttle) -> Value {
            .map(["ThrottlingBurstLimit": .int(throttle.burst), "ThrottlingRateLimit": .double(throttle.rate)])
        }
        if let throttle = guards.defaultThrottle { stage["DefaultRouteSettings"] = settings(throttle) }
        if !guards.routeThrottles.isEmpty {
            stage["RouteSettings"] = .map(Dictionary(uniqueKeysWithValues: guards.routeThrottles.map { ($0.key.rawValue, settings($0.value)) }))
        }
        if let log = guards.accessLog {
            resources["AccessLogGroup"] = Resource(
                type: "AWS::Logs::LogGroup", properties: ["LogGroupName": .string(log.logGroupName), "RetentionInDays": .int(30)])
            stage["AccessLogSettings"] = .map(["DestinationArn": .getAtt("AccessLogGroup", "Arn"), "Format": .string(log.format)])
        }
        func policy(_ document: IAMPolicies.Document) -> Value {
            .map([
                "Version": .string(document.version),
                "Statement": .list(
                    document.statement.map { statement in
                        .map([
                            "Sid": .string(statement.sid), "Effect": .string(statement.effect), "Action": .list(statement.action.map(Value.string)),
                            "Resource": .list(statement.resource.map { .sub($0) }),
                        ])
                    }),
            ])
        }
        resources["DeployPolicy"] = Resource(
            type: "AWS::IAM::ManagedPolicy",
            properties: [
                "Description": .string("Deploys WebSocket API '\(desired.name)' (apigateway on its ARNs only)"),
                "PolicyDocument": policy(IAMPolicies.deploy(region: "${AWS::Region}", apiID: "${WebSocketApi}")),
            ])
        resources["RunPolicy"] = Resource(
            type: "AWS::IAM::ManagedPolicy",
            properties: [
                "Description": .string("Lets the backend post to the connections of stage '\(desired.stage)'"),
                "PolicyDocument": policy(
                    IAMPolicies.run(region: "${AWS::Region}", account: "${AWS::AccountId}", apiID: "${WebSocketApi}", stage: desired.stage)),
            ])
    }

    /// The template as JSON.
    public static func cloudFormationJSON(_ desired: DesiredAPI) throws -> String { try cloudFormationTemplate(desired).json() }

    /// The template as YAML.
    public static func cloudFormationYAML(_ desired: DesiredAPI) throws -> String { try cloudFormationTemplate(desired).yaml() }
}
