/// The apigatewayv2 shapes, in the wire's lowerCamelCase: what our client sends and reads, and
/// what the local gateway reads and answers. Every field a request or a response may omit (or,
/// from moto, send as `null`) is optional; dates are the wire's ISO-8601 text.
public enum APIGatewayV2 {
    public struct Api: Codable, Sendable, Hashable {
        public var apiId: String?
        public var name: String?
        public var apiEndpoint: String?
        public var protocolType: String?
        public var routeSelectionExpression: String?
        public var apiKeySelectionExpression: String?
        public var description: String?
        public var disableSchemaValidation: Bool?
        public var tags: [String: String]?
        public var createdDate: String?

        public init(
            name: String? = nil, protocolType: String? = nil, routeSelectionExpression: String? = nil,
            apiKeySelectionExpression: String? = nil, description: String? = nil, disableSchemaValidation: Bool? = nil,
            tags: [String: String]? = nil
        ) {
            self.name = name
            self.protocolType = protocolType
            self.routeSelectionExpression = routeSelectionExpression
            self.apiKeySelectionExpression = apiKeySelectionExpression
            self.description = description
            self.disableSchemaValidation = disableSchemaValidation
            self.tags = tags
        }
    }

    public struct Integration: Codable, Sendable, Hashable {
        public var integrationId: String?
        public var integrationType: String?
        public var integrationMethod: String?
        public var integrationUri: String?
        public var connectionType: String?
        public var passthroughBehavior: String?
        public var payloadFormatVersion: String?
        public var requestParameters: [String: String]?
        public var timeoutInMillis: Int?
        public var description: String?

        public init(
            integrationType: String? = nil, integrationMethod: String? = nil, integrationUri: String? = nil,
            connectionType: String? = nil, passthroughBehavior: String? = nil, payloadFormatVersion: String? = nil,
            requestParameters: [String: String]? = nil, timeoutInMillis: Int? = nil, description: String? = nil
        ) {
            self.integrationType = integrationType
            self.integrationMethod = integrationMethod
            self.integrationUri = integrationUri
            self.connectionType = connectionType
            self.passthroughBehavior = passthroughBehavior
            self.payloadFormatVersion = payloadFormatVersion
            self.requestParameters = requestParameters
            self.timeoutInMillis = timeoutInMillis
            self.description = description
        }
    }

    public struct Route: Codable, Sendable, Hashable {
        public var routeId: String?
        public var routeKey: String?
        public var target: String?
        public var routeResponseSelectionExpression: String?
        public var authorizationType: String?
        public var operationName: String?
        public var apiKeyRequired: Bool?

        public init(
            routeKey: String? = nil, target: String? = nil, routeResponseSelectionExpression: String? = nil,
            authorizationType: String? = nil, operationName: String? = nil
        ) {
            self.routeKey = routeKey
            self.target = target
            self.routeResponseSelectionExpression = routeResponseSelectionExpression
            self.authorizationType = authorizationType
            self.operationName = operationName
        }

        /// `integrations/{id}`, the target that sends a route to an integration.
        public static func target(integrationId: String) -> String { "integrations/\(integrationId)" }

        /// The integration ``target`` names, if it names one.
        public var integrationId: String? {
            guard let target, target.hasPrefix("integrations/") else { return nil }
            return String(target.dropFirst("integrations/".count))
        }
    }

    public struct RouteResponse: Codable, Sendable, Hashable {
        public var routeResponseId: String?
        public var routeResponseKey: String?
        public var modelSelectionExpression: String?
        public init(routeResponseKey: String? = nil, modelSelectionExpression: String? = nil) {
            self.routeResponseKey = routeResponseKey
            self.modelSelectionExpression = modelSelectionExpression
        }
    }

    public struct Stage: Codable, Sendable, Hashable {
        public var stageName: String?
        public var deploymentId: String?
        public var description: String?
        public var autoDeploy: Bool?
        public var stageVariables: [String: String]?
        public var createdDate: String?
        public var lastUpdatedDate: String?

        public init(
            stageName: String? = nil, deploymentId: String? = nil, description: String? = nil, autoDeploy: Bool? = nil,
            stageVariables: [String: String]? = nil
        ) {
            self.stageName = stageName
            self.deploymentId = deploymentId
            self.description = description
            self.autoDeploy = autoDeploy
            self.stageVariables = stageVariables
        }
    }

    public struct Deployment: Codable, Sendable, Hashable {
        public var deploymentId: String?
        public var deploymentStatus: String?
        public var description: String?
        public var stageName: String?
        public var autoDeployed: Bool?
        public var createdDate: String?
        public init(description: String? = nil, stageName: String? = nil) {
            self.description = description
            self.stageName = stageName
        }
    }

    public struct DomainName: Codable, Sendable, Hashable {
        public struct Configuration: Codable, Sendable, Hashable {
            public var certificateArn: String?
            public var endpointType: String?
            public var securityPolicy: String?
            public var apiGatewayDomainName: String?
            public var hostedZoneId: String?
            public var domainNameStatus: String?
            public init(certificateArn: String? = nil, endpointType: String? = "REGIONAL", securityPolicy: String? = "TLS_1_2") {
                self.certificateArn = certificateArn
                self.endpointType = endpointType
                self.securityPolicy = securityPolicy
            }
        }
        public var domainName: String?
        public var domainNameConfigurations: [Configuration]?
        public var tags: [String: String]?
        public var apiMappingSelectionExpression: String?
        public init(domainName: String? = nil, domainNameConfigurations: [Configuration]? = nil, tags: [String: String]? = nil) {
            self.domainName = domainName
            self.domainNameConfigurations = domainNameConfigurations
            self.tags = tags
        }
    }

    public struct ApiMapping: Codable, Sendable, Hashable {
        public var apiMappingId: String?
        public var apiId: String?
        public var stage: String?
        public var apiMappingKey: String?
        public init(apiId: String? = nil, stage: String? = nil, apiMappingKey: String? = nil) {
            self.apiId = apiId
            self.stage = stage
            self.apiMappingKey = apiMappingKey
        }
    }

    /// `{"tags": {…}}`, the tagging calls' body and answer.
    public struct Tags: Codable, Sendable, Hashable {
        public var tags: [String: String]?
        public init(tags: [String: String]?) { self.tags = tags }
    }

    /// A page of a list: `{"items": […], "nextToken": "…"}`.
    public struct Page<Item: Codable & Sendable>: Codable, Sendable {
        public var items: [Item]?
        public var nextToken: String?
        public init(items: [Item]?, nextToken: String?) {
            self.items = items
            self.nextToken = nextToken
        }
    }

    /// `{"message": "…"}`, the body of an error answer.
    public struct ErrorBody: Codable, Sendable, Hashable {
        public var message: String?
        public init(message: String?) { self.message = message }
    }
}
