public import Foundation

/// One WebSocket API held by the local gateway, in the shapes of API Gateway v2 (the control
/// plane's wire format: lowerCamelCase, ids as strings).
public struct LocalAPI: Codable, Sendable, Hashable {
    public var apiId: String
    public var name: String
    public var protocolType: String = "WEBSOCKET"
    /// e.g. `$request.body.action` or `${request.body.service}/${request.body.action}`.
    public var routeSelectionExpression: String
    public var apiKeySelectionExpression: String? = "$request.header.x-api-key"
    public var description: String?
    public var disableSchemaValidation: Bool?
    public var createdDate: Date = Date()
    public var tags: [String: String] = [:]
    public var integrations: [String: LocalIntegration] = [:]
    public var routes: [String: LocalRoute] = [:]
    /// Route responses by route id.
    public var routeResponses: [String: [LocalRouteResponse]] = [:]
    public var stages: [String: LocalStage] = [:]
    public var deployments: [String: LocalDeployment] = [:]
    /// Lambda REQUEST authorizers by id (absent from state files written before they existed).
    public var authorizers: [String: LocalAuthorizer]?

    public init(apiId: String, name: String, routeSelectionExpression: String = "$request.body.action") {
        self.apiId = apiId
        self.name = name
        self.routeSelectionExpression = routeSelectionExpression
    }

    /// The route with this key, if any.
    public func route(_ key: String) -> LocalRoute? { routes.values.first { $0.routeKey == key } }

    /// The integration a route targets (`integrations/{id}`).
    public func integration(for route: LocalRoute) -> LocalIntegration? {
        guard let target = route.target, target.hasPrefix("integrations/") else { return nil }
        return integrations[String(target.dropFirst("integrations/".count))]
    }

    /// A route is two-way when it has a `$default` route response (the way tooling sets it up),
    /// or, when `expressionEnablesTwoWay`, a route response selection expression alone.
    public func isTwoWay(_ route: LocalRoute, expressionEnablesTwoWay: Bool) -> Bool {
        if routeResponses[route.routeId]?.contains(where: { $0.routeResponseKey == "$default" }) == true { return true }
        return expressionEnablesTwoWay && route.routeResponseSelectionExpression != nil
    }
}

public struct LocalIntegration: Codable, Sendable, Hashable {
    public var integrationId: String
    public var integrationType: String = "HTTP_PROXY"
    public var integrationMethod: String? = "POST"
    public var integrationUri: String?
    public var connectionType: String? = "INTERNET"
    public var passthroughBehavior: String?
    public var payloadFormatVersion: String? = "1.0"
    /// `integration.request.header.X` / `integration.request.querystring.X` → a source:
    /// `context.connectionId`, `'static'`, `route.request.header.X`, `stageVariables.X`, …
    public var requestParameters: [String: String] = [:]
    public var timeoutInMillis: Int = 29_000
    public var description: String?

    public init(integrationId: String, integrationUri: String, requestParameters: [String: String] = [:], timeoutInMillis: Int = 29_000) {
        self.integrationId = integrationId
        self.integrationUri = integrationUri
        self.requestParameters = requestParameters
        self.timeoutInMillis = timeoutInMillis
    }
}

public struct LocalRoute: Codable, Sendable, Hashable {
    public var routeId: String
    public var routeKey: String
    public var target: String?
    public var routeResponseSelectionExpression: String?
    public var authorizationType: String? = "NONE"
    public var apiKeyRequired: Bool? = false
    public var operationName: String?
    public var requestParameters: [String: [String: Bool]]?
    /// The authorizer of a `CUSTOM` route.
    public var authorizerId: String?

    public init(routeId: String, routeKey: String, target: String?, routeResponseSelectionExpression: String? = nil) {
        self.routeId = routeId
        self.routeKey = routeKey
        self.target = target
        self.routeResponseSelectionExpression = routeResponseSelectionExpression
    }
}

public struct LocalRouteResponse: Codable, Sendable, Hashable {
    public var routeResponseId: String
    public var routeResponseKey: String
    public var modelSelectionExpression: String?
}

public struct LocalStage: Codable, Sendable, Hashable {
    public var stageName: String
    public var deploymentId: String?
    public var autoDeploy: Bool?
    public var description: String?
    public var stageVariables: [String: String] = [:]
    public var createdDate: Date = Date()
    public var lastUpdatedDate: Date = Date()
    /// The throttle of routes without their own entry in ``routeSettings``.
    public var defaultRouteSettings: LocalRouteSettings?
    /// Throttles by route key.
    public var routeSettings: [String: LocalRouteSettings]?
    /// The access log line's format (`$context` variables) and where AWS would send it.
    public var accessLogSettings: LocalAccessLogSettings?

    public init(stageName: String) { self.stageName = stageName }

    /// The throttle `routeKey` runs under: its own settings, else the stage's default, field by
    /// field (API Gateway fills a route's missing limit from the default).
    public func throttle(for routeKey: String) -> (rate: Double, burst: Int)? {
        let own = routeSettings?[routeKey]
        let rate = own?.throttlingRateLimit ?? defaultRouteSettings?.throttlingRateLimit
        let burst = own?.throttlingBurstLimit ?? defaultRouteSettings?.throttlingBurstLimit
        guard rate != nil || burst != nil else { return nil }
        return (rate ?? 10_000, burst ?? 5_000)
    }
}

public struct LocalRouteSettings: Codable, Sendable, Hashable {
    /// The highest rate the control plane takes (a second), far past any account's.
    public static let maximumRate: Double = 1_000_000_000
    public var throttlingBurstLimit: Int?
    public var throttlingRateLimit: Double?
    public init(throttlingBurstLimit: Int? = nil, throttlingRateLimit: Double? = nil) {
        self.throttlingBurstLimit = throttlingBurstLimit
        self.throttlingRateLimit = throttlingRateLimit
    }
}

public struct LocalAccessLogSettings: Codable, Sendable, Hashable {
    public var destinationArn: String?
    public var format: String?
    public init(destinationArn: String? = nil, format: String? = nil) {
        self.destinationArn = destinationArn
        self.format = format
    }
}

/// A Lambda `REQUEST` authorizer. Here it is called over HTTP: an `http(s)://` `authorizerUri`
/// directly, a Lambda function's through the URL the gateway maps it to
/// (``LocalGatewayConfiguration/authorizerFunctions``).
public struct LocalAuthorizer: Codable, Sendable, Hashable {
    public var authorizerId: String
    public var name: String
    public var authorizerType: String = "REQUEST"
    public var authorizerUri: String?
    /// `route.request.header.X`, `route.request.querystring.X`, `stageVariables.X`, `context.X`.
    public var identitySource: [String] = []
    /// How long an answer is reused for the same identity (0: never).
    public var authorizerResultTtlInSeconds: Int = 0
    public var authorizerCredentialsArn: String?

    public init(authorizerId: String, name: String, authorizerUri: String?, identitySource: [String] = [], ttl: Int = 0) {
        self.authorizerId = authorizerId
        self.name = name
        self.authorizerUri = authorizerUri
        self.identitySource = identitySource
        self.authorizerResultTtlInSeconds = ttl
    }
}

public struct LocalDeployment: Codable, Sendable, Hashable {
    public var deploymentId: String
    public var deploymentStatus: String = "DEPLOYED"
    public var description: String?
    public var autoDeployed: Bool = false
    public var createdDate: Date = Date()
}

/// The quick-start declaration: one API with its routes pointing at a backend, without going
/// through the control plane.
///
/// ```json
/// {"apis": [{"apiId": "chatlocal", "stages": ["local"],
///            "routes": {"$connect": "http://127.0.0.1:8080/ws/connect", "$default": "http://127.0.0.1:8080/ws/default"},
///            "requestParameters": {"integration.request.header.connectionId": "context.connectionId"}}]}
/// ```
public struct LocalDeclaration: Codable, Sendable {
    public struct API: Codable, Sendable {
        public var apiId: String
        public var name: String?
        public var routeSelectionExpression: String?
        public var stages: [String]
        /// Route key → integration URI (every route an HTTP_PROXY POST).
        public var routes: [String: String]
        /// Route keys answered to the client (a `$default` route response).
        public var twoWayRoutes: [String]?
        /// Applied to every route's integration.
        public var requestParameters: [String: String]?
        public var timeoutInMillis: Int?

        public init(
            apiId: String, name: String? = nil, routeSelectionExpression: String? = nil, stages: [String], routes: [String: String],
            twoWayRoutes: [String]? = nil, requestParameters: [String: String]? = nil, timeoutInMillis: Int? = nil
        ) {
            self.apiId = apiId
            self.name = name
            self.routeSelectionExpression = routeSelectionExpression
            self.stages = stages
            self.routes = routes
            self.twoWayRoutes = twoWayRoutes
            self.requestParameters = requestParameters
            self.timeoutInMillis = timeoutInMillis
        }
    }

    public var apis: [API]

    public init(apis: [API]) { self.apis = apis }

    /// The declaration in the JSON file at `path`:
    /// `{"apis":[{"apiId":"chatlocal","stages":["local"],"routes":{"$connect":"http://127.0.0.1:8080/ws/connect", …}}]}`.
    /// - Throws: ``LocalGatewayError`` saying in a sentence what is wrong with the file and where.
    public static func read(from path: String) throws -> LocalDeclaration {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw LocalGatewayError.unreadableDeclaration(path, reason: "it cannot be read (\((error as NSError).localizedDescription))")
        }
        do {
            return try JSONDecoder().decode(LocalDeclaration.self, from: data)
        } catch let error as DecodingError {
            throw LocalGatewayError.unreadableDeclaration(path, reason: Self.sentence(error))
        }
    }

    /// What a person needs to hear about `error`: where in the file, and what was expected there.
    static func sentence(_ error: DecodingError) -> String {
        func place(_ path: [any CodingKey]) -> String {
            let keys = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "the top level" : String(keys.drop { $0 == "." })
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(place(context.codingPath)) has no \"\(key.stringValue)\" (each API needs \"apiId\", \"stages\" and \"routes\")"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "\(place(context.codingPath)) should be \(Self.describe(type))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "it is not JSON" : "\(place(context.codingPath)) is not valid: \(context.debugDescription)"
        @unknown default:
            return "it does not decode"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "a number"
        case is [String].Type: "a list of strings"
        case is [String: String].Type: "an object of strings"
        case is [API].Type: "a list of APIs"
        default: "a \(type)"
        }
    }

    /// The declared APIs in the control plane's shapes.
    public func localAPIs() -> [LocalAPI] {
        apis.map { declared in
            var api = LocalAPI(
                apiId: declared.apiId, name: declared.name ?? declared.apiId,
                routeSelectionExpression: declared.routeSelectionExpression ?? "$request.body.action")
            for (index, (key, uri)) in declared.routes.sorted(by: { $0.key < $1.key }).enumerated() {
                let integration = LocalIntegration(
                    integrationId: "int\(index)", integrationUri: uri, requestParameters: declared.requestParameters ?? [:],
                    timeoutInMillis: declared.timeoutInMillis ?? 29_000
                )
                api.integrations[integration.integrationId] = integration
                let twoWay = declared.twoWayRoutes?.contains(key) == true
                let route = LocalRoute(
                    routeId: "route\(index)", routeKey: key, target: "integrations/\(integration.integrationId)",
                    routeResponseSelectionExpression: twoWay ? "$default" : nil)
                api.routes[route.routeId] = route
                if twoWay {
                    api.routeResponses[route.routeId] = [LocalRouteResponse(routeResponseId: "rr\(index)", routeResponseKey: "$default")]
                }
            }
            for stage in declared.stages { api.stages[stage] = LocalStage(stageName: stage) }
            return api
        }
    }
}
