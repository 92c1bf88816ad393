import APIGatewayAWS
import Foundation

/// The wire shapes of what the gateway holds. The stored types carry more than the wire shows
/// (route responses by route, mappings by domain), so each answer is built here, in one place.
extension APIGatewayV2.Api {
    init(_ api: LocalAPI, endpoint: String) {
        self.init(
            name: api.name, protocolType: api.protocolType, routeSelectionExpression: api.routeSelectionExpression,
            apiKeySelectionExpression: api.apiKeySelectionExpression, description: api.description,
            disableSchemaValidation: api.disableSchemaValidation, tags: api.tags)
        apiId = api.apiId
        apiEndpoint = "\(endpoint)/\(api.apiId)"
        createdDate = LocalGateway.iso(api.createdDate)
    }
}

extension APIGatewayV2.Integration {
    init(_ integration: LocalIntegration) {
        self.init(
            integrationType: integration.integrationType, integrationMethod: integration.integrationMethod,
            integrationUri: integration.integrationUri, connectionType: integration.connectionType,
            passthroughBehavior: integration.passthroughBehavior, payloadFormatVersion: integration.payloadFormatVersion,
            requestParameters: integration.requestParameters, timeoutInMillis: integration.timeoutInMillis,
            description: integration.description)
        integrationId = integration.integrationId
    }

    /// Sets on `integration` every field this request names.
    func apply(to integration: inout LocalIntegration) throws {
        if let integrationUri { integration.integrationUri = integrationUri }
        if let integrationMethod { integration.integrationMethod = integrationMethod }
        if let integrationType { integration.integrationType = integrationType }
        if let connectionType { integration.connectionType = connectionType }
        if let passthroughBehavior { integration.passthroughBehavior = passthroughBehavior }
        if let payloadFormatVersion { integration.payloadFormatVersion = payloadFormatVersion }
        if let requestParameters { integration.requestParameters = requestParameters }
        if let timeoutInMillis {
            guard (50...29_000).contains(timeoutInMillis) else {
                throw ControlPlaneError.badRequest("timeoutInMillis must be between 50 and 29000, not \(timeoutInMillis)")
            }
            integration.timeoutInMillis = timeoutInMillis
        }
        if let description { integration.description = description }
    }
}

extension APIGatewayV2.Route {
    init(_ route: LocalRoute) {
        self.init(
            routeKey: route.routeKey, target: route.target, routeResponseSelectionExpression: route.routeResponseSelectionExpression,
            authorizationType: route.authorizationType, operationName: route.operationName)
        routeId = route.routeId
        apiKeyRequired = route.apiKeyRequired
        authorizerId = route.authorizerId
    }

    func apply(to route: inout LocalRoute) throws {
        if let authorizationType {
            guard ["NONE", "AWS_IAM", "CUSTOM", "JWT"].contains(authorizationType) else {
                throw ControlPlaneError.badRequest("authorizationType must be NONE, AWS_IAM, CUSTOM or JWT, not \(authorizationType)")
            }
        }
        if let routeKey { route.routeKey = routeKey }
        if let target { route.target = target }
        if let routeResponseSelectionExpression { route.routeResponseSelectionExpression = routeResponseSelectionExpression }
        if let authorizationType { route.authorizationType = authorizationType }
        if let apiKeyRequired { route.apiKeyRequired = apiKeyRequired }
        if let operationName { route.operationName = operationName }
        if let authorizerId { route.authorizerId = authorizerId.isEmpty ? nil : authorizerId }
    }
}

extension APIGatewayV2.RouteResponse {
    init(_ response: LocalRouteResponse) {
        self.init(routeResponseKey: response.routeResponseKey, modelSelectionExpression: response.modelSelectionExpression)
        routeResponseId = response.routeResponseId
    }
}

extension APIGatewayV2.Stage {
    init(_ stage: LocalStage) {
        self.init(
            stageName: stage.stageName, deploymentId: stage.deploymentId, description: stage.description, autoDeploy: stage.autoDeploy,
            stageVariables: stage.stageVariables,
            defaultRouteSettings: stage.defaultRouteSettings.map(APIGatewayV2.RouteSettings.init),
            routeSettings: stage.routeSettings?.mapValues(APIGatewayV2.RouteSettings.init),
            accessLogSettings: stage.accessLogSettings.map { .init(destinationArn: $0.destinationArn, format: $0.format) })
        createdDate = LocalGateway.iso(stage.createdDate)
        lastUpdatedDate = LocalGateway.iso(stage.lastUpdatedDate)
    }

    func apply(to stage: inout LocalStage) throws {
        if let deploymentId { stage.deploymentId = deploymentId }
        if let autoDeploy { stage.autoDeploy = autoDeploy }
        if let description { stage.description = description }
        if let stageVariables { stage.stageVariables = stageVariables }
        if let defaultRouteSettings { stage.defaultRouteSettings = try LocalRouteSettings(defaultRouteSettings) }
        if let routeSettings { stage.routeSettings = try routeSettings.mapValues(LocalRouteSettings.init) }
        if let accessLogSettings {
            // An empty format turns the log off, as the console's "disable" does.
            stage.accessLogSettings =
                accessLogSettings.format?.isEmpty ?? true
                ? nil : LocalAccessLogSettings(destinationArn: accessLogSettings.destinationArn, format: accessLogSettings.format)
        }
    }
}

extension APIGatewayV2.RouteSettings {
    init(_ settings: LocalRouteSettings) {
        self.init(throttlingBurstLimit: settings.throttlingBurstLimit, throttlingRateLimit: settings.throttlingRateLimit)
    }
}

extension LocalRouteSettings {
    /// The throttle in `settings`, checked as API Gateway checks it: neither limit negative.
    init(_ settings: APIGatewayV2.RouteSettings) throws {
        if let burst = settings.throttlingBurstLimit, !(0...Int(Int32.max)).contains(burst) {
            throw ControlPlaneError.badRequest("throttlingBurstLimit must be between 0 and \(Int32.max), not \(burst)")
        }
        if let rate = settings.throttlingRateLimit, !(rate >= 0 && rate <= LocalRouteSettings.maximumRate) {
            throw ControlPlaneError.badRequest("throttlingRateLimit must be between 0 and \(Int(LocalRouteSettings.maximumRate)), not \(rate)")
        }
        self.init(throttlingBurstLimit: settings.throttlingBurstLimit, throttlingRateLimit: settings.throttlingRateLimit)
    }
}

extension APIGatewayV2.Authorizer {
    init(_ authorizer: LocalAuthorizer) {
        self.init(
            name: authorizer.name, authorizerType: authorizer.authorizerType, authorizerUri: authorizer.authorizerUri,
            identitySource: authorizer.identitySource, authorizerResultTtlInSeconds: authorizer.authorizerResultTtlInSeconds,
            authorizerCredentialsArn: authorizer.authorizerCredentialsArn)
        authorizerId = authorizer.authorizerId
    }

    /// Sets on `authorizer` every field this request names, checked as API Gateway checks them
    /// for a WebSocket API: `REQUEST` only, a TTL of at most an hour.
    func apply(to authorizer: inout LocalAuthorizer) throws {
        if let name { authorizer.name = name }
        if let authorizerType {
            guard authorizerType == "REQUEST" else {
                throw ControlPlaneError.badRequest("WebSocket APIs take REQUEST authorizers only, not \(authorizerType)")
            }
            authorizer.authorizerType = authorizerType
        }
        if let authorizerUri { authorizer.authorizerUri = authorizerUri }
        if let identitySource {
            for source in identitySource where AuthorizerIdentity.normalized(source) == nil {
                throw ControlPlaneError.badRequest(
                    "Invalid identity source \(source): use route.request.header.NAME, route.request.querystring.NAME, "
                        + "stageVariables.NAME or context.NAME")
            }
            authorizer.identitySource = identitySource
        }
        if let ttl = authorizerResultTtlInSeconds {
            guard (0...3600).contains(ttl) else {
                throw ControlPlaneError.badRequest("authorizerResultTtlInSeconds must be between 0 and 3600, not \(ttl)")
            }
            authorizer.authorizerResultTtlInSeconds = ttl
        }
        if let authorizerCredentialsArn { authorizer.authorizerCredentialsArn = authorizerCredentialsArn }
    }
}

extension APIGatewayV2.Deployment {
    init(_ deployment: LocalDeployment) {
        self.init(description: deployment.description)
        deploymentId = deployment.deploymentId
        deploymentStatus = deployment.deploymentStatus
        autoDeployed = deployment.autoDeployed
        createdDate = LocalGateway.iso(deployment.createdDate)
    }
}

extension APIGatewayV2.DomainName {
    init(_ domain: LocalDomainName) {
        var configuration = APIGatewayV2.DomainName.Configuration(
            certificateArn: domain.certificateArn, endpointType: domain.endpointType, securityPolicy: domain.securityPolicy)
        configuration.apiGatewayDomainName = domain.apiGatewayDomainName
        configuration.hostedZoneId = domain.hostedZoneId
        configuration.domainNameStatus = "AVAILABLE"
        self.init(domainName: domain.domainName, domainNameConfigurations: [configuration], tags: domain.tags)
        apiMappingSelectionExpression = "$request.basepath"
    }
}

extension APIGatewayV2.DomainName.Configuration {
    func apply(to domain: inout LocalDomainName) {
        if let certificateArn { domain.certificateArn = certificateArn }
        if let endpointType { domain.endpointType = endpointType }
        if let securityPolicy { domain.securityPolicy = securityPolicy }
    }
}

extension APIGatewayV2.ApiMapping {
    init(_ mapping: LocalApiMapping) {
        self.init(apiId: mapping.apiId, stage: mapping.stage, apiMappingKey: mapping.apiMappingKey)
        apiMappingId = mapping.apiMappingId
    }
}
