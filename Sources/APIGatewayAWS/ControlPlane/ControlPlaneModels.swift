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
        /// The authorizer of a `CUSTOM` route (`$connect` only on WebSocket APIs).
        public var authorizerId: String?

        public init(
            routeKey: String? = nil, target: String? = nil, routeResponseSelectionExpression: String? = nil,
            authorizationType: String? = nil, operationName: String? = nil, apiKeyRequired: Bool? = nil, authorizerId: String? = nil
        ) {
            self.routeKey = routeKey
            self.target = target
            self.routeResponseSelectionExpression = routeResponseSelectionExpression
            self.authorizationType = authorizationType
            self.operationName = operationName
            self.apiKeyRequired = apiKeyRequired
            self.authorizerId = authorizerId
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
        /// The throttle of every route without its own entry in ``routeSettings``.
        public var defaultRouteSettings: RouteSettings?
        /// Per route key.
        public var routeSettings: [String: RouteSettings]?
        public var accessLogSettings: AccessLogSettings?
        public var createdDate: String?
        public var lastUpdatedDate: String?

        public init(
            stageName: String? = nil, deploymentId: String? = nil, description: String? = nil, autoDeploy: Bool? = nil,
            stageVariables: [String: String]? = nil, defaultRouteSettings: RouteSettings? = nil,
            routeSettings: [String: RouteSettings]? = nil, accessLogSettings: AccessLogSettings? = nil
        ) {
            self.stageName = stageName
            self.deploymentId = deploymentId
            self.description = description
            self.autoDeploy = autoDeploy
            self.stageVariables = stageVariables
            self.defaultRouteSettings = defaultRouteSettings
            self.routeSettings = routeSettings
            self.accessLogSettings = accessLogSettings
        }
    }

    /// A stage's or a route's throttle: requests a second, and how many may come at once.
    public struct RouteSettings: Codable, Sendable, Hashable {
        public var throttlingBurstLimit: Int?
        public var throttlingRateLimit: Double?
        public var dataTraceEnabled: Bool?
        public var detailedMetricsEnabled: Bool?
        public var loggingLevel: String?
        public init(throttlingBurstLimit: Int? = nil, throttlingRateLimit: Double? = nil) {
            self.throttlingBurstLimit = throttlingBurstLimit
            self.throttlingRateLimit = throttlingRateLimit
        }
    }

    /// Where a stage's access log goes (a CloudWatch log group's ARN) and its line, in `$context`
    /// variables: `$context.requestId $context.eventType $context.routeKey $context.status`.
    public struct AccessLogSettings: Codable, Sendable, Hashable {
        public var destinationArn: String?
        public var format: String?
        public init(destinationArn: String? = nil, format: String? = nil) {
            self.destinationArn = destinationArn
            self.format = format
        }
    }

    /// A Lambda authorizer: `REQUEST` on a WebSocket API's `$connect`, called with the identity
    /// sources it names (`route.request.header.Auth`, `route.request.querystring.token`).
    public struct Authorizer: Codable, Sendable, Hashable {
        public var authorizerId: String?
        public var name: String?
        public var authorizerType: String?
        /// `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function ARN}/invocations`.
        public var authorizerUri: String?
        public var identitySource: [String]?
        public var authorizerResultTtlInSeconds: Int?
        public var authorizerCredentialsArn: String?
        public init(
            name: String? = nil, authorizerType: String? = nil, authorizerUri: String? = nil, identitySource: [String]? = nil,
            authorizerResultTtlInSeconds: Int? = nil, authorizerCredentialsArn: String? = nil
        ) {
            self.name = name
            self.authorizerType = authorizerType
            self.authorizerUri = authorizerUri
            self.identitySource = identitySource
            self.authorizerResultTtlInSeconds = authorizerResultTtlInSeconds
            self.authorizerCredentialsArn = authorizerCredentialsArn
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
