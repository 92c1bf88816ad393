public import APIGatewayWebSockets
import Foundation

extension DesiredAPI {
    /// What API Gateway checks before the backend hears of a request: who may connect (IAM or a
    /// Lambda authorizer on `$connect`), whether an API key is required, how fast each route may
    /// be called, and the stage's access log.
    public struct Guards: Sendable, Hashable {
        /// How `$connect` is authorized; `.none` by default.
        public var connectAuthorization: ConnectAuthorization
        /// `$connect` requires an API key (the API's `apiKeySelectionExpression`), metered by a
        /// usage plan made outside this API.
        public var apiKeyRequired: Bool
        /// The stage's throttle for every route without one of its own.
        public var defaultThrottle: Throttle?
        /// Throttles by route.
        public var routeThrottles: [RouteKey: Throttle]
        public var accessLog: AccessLog?

        public init(
            connectAuthorization: ConnectAuthorization = .none, apiKeyRequired: Bool = false, defaultThrottle: Throttle? = nil,
            routeThrottles: [RouteKey: Throttle] = [:], accessLog: AccessLog? = nil
        ) {
            self.connectAuthorization = connectAuthorization
            self.apiKeyRequired = apiKeyRequired
            self.defaultThrottle = defaultThrottle
            self.routeThrottles = routeThrottles
            self.accessLog = accessLog
        }
    }

    /// Who may connect.
    public enum ConnectAuthorization: Sendable, Hashable {
        case none
        /// The client signs the upgrade with SigV4 (`execute-api:Invoke` on the stage's `$connect`).
        case iam
        /// A Lambda `REQUEST` authorizer.
        case authorizer(Authorizer)

        /// `NONE`, `AWS_IAM` or `CUSTOM`.
        public var authorizationType: String {
            switch self {
            case .none: "NONE"
            case .iam: "AWS_IAM"
            case .authorizer: "CUSTOM"
            }
        }

        public var authorizer: Authorizer? {
            if case .authorizer(let authorizer) = self { authorizer } else { nil }
        }
    }

    /// A Lambda `REQUEST` authorizer on `$connect`.
    public struct Authorizer: Sendable, Hashable {
        /// Its name in API Gateway: the planner finds it again by name.
        public var name: String
        /// The Lambda function's ARN: `arn:aws:lambda:{region}:{account}:function:{name}`.
        public var functionARN: String
        /// What it is called with, e.g. `route.request.querystring.token` or
        /// `route.request.header.Authorization`: a connect without one is refused 401 before the
        /// function runs.
        public var identitySource: [String]

        public init(name: String, functionARN: String, identitySource: [String]) {
            self.name = name
            self.functionARN = functionARN
            self.identitySource = identitySource
        }

        /// `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function ARN}/invocations`,
        /// in the function's region.
        public var authorizerURI: String {
            let parts = functionARN.split(separator: ":", omittingEmptySubsequences: false)
            let region = parts.count > 3 ? String(parts[3]) : "us-east-1"
            return "arn:aws:apigateway:\(region):lambda:path/2015-03-31/functions/\(functionARN)/invocations"
        }
    }

    /// Requests a second, and how many may come at once.
    public struct Throttle: Sendable, Hashable {
        public var rate: Double
        public var burst: Int
        public init(rate: Double, burst: Int) {
            self.rate = rate
            self.burst = burst
        }
    }

    /// The stage's access log: a CloudWatch log group, and one line per event in `format`
    /// (`$context` variables).
    public struct AccessLog: Sendable, Hashable {
        /// The log group's name; the exports create it.
        public var logGroupName: String
        /// The log group's ARN, for `gateway apply` (the exports use the group they create).
        public var destinationARN: String
        public var format: String

        /// One line a person reads: request, event, route, status, who, and what went wrong.
        public static let defaultFormat =
            "$context.requestId $context.identity.sourceIp $context.eventType $context.routeKey $context.status "
            + "$context.connectionId $context.authorizer.principalId $context.integrationLatency $context.error.responseType"

        public init(logGroupName: String, destinationARN: String, format: String = defaultFormat) {
            self.logGroupName = logGroupName
            self.destinationARN = destinationARN
            self.format = format
        }
    }

    /// Maps what API Gateway vouched for (a `GatewayIdentity`) into a header of the `$connect`
    /// integration, for the app's `GatewayConfiguration.gatewayIdentity`, with the gateway secret
    /// in the proof header beside it (the exports write it as the secret parameter).
    public mutating func mapIdentity(_ identity: GatewayIdentity, secret: String) {
        for index in routes.indices where routes[index].routeKey == .connect {
            routes[index].requestParameters.merge(identity.requestParameters(secret: secret)) { $1 }
        }
    }
}

/// The least-privilege IAM policies of one API: deploying it, and running the backend that posts
/// to its connections.
public enum IAMPolicies {
    /// An IAM policy document.
    public struct Document: Codable, Sendable, Hashable {
        public struct Statement: Codable, Sendable, Hashable {
            public var sid: String
            public var effect = "Allow"
            public var action: [String]
            public var resource: [String]
            enum CodingKeys: String, CodingKey { case sid = "Sid", effect = "Effect", action = "Action", resource = "Resource" }
        }
        public var version = "2012-10-17"
        public var statement: [Statement]
        enum CodingKeys: String, CodingKey { case version = "Version", statement = "Statement" }

        /// The document as JSON, keys sorted.
        public func json() -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
        }
    }

    /// `apigateway:*` on the API and everything under it, and on the collections a first apply
    /// creates it through (`/apis`, `/tags`).
    public static func deploy(region: String, apiID: String = "*") -> Document {
        Document(statement: [
            .init(
                sid: "DeployTheWebSocketAPI", action: ["apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST", "apigateway:PUT"],
                resource: [
                    "arn:aws:apigateway:\(region)::/apis", "arn:aws:apigateway:\(region)::/apis/\(apiID)",
                    "arn:aws:apigateway:\(region)::/apis/\(apiID)/*", "arn:aws:apigateway:\(region)::/tags/*",
                ])
        ])
    }

    /// `execute-api:ManageConnections` on the stage's `@connections`, nothing else.
    public static func run(region: String, account: String = "*", apiID: String = "*", stage: String) -> Document {
        Document(statement: [
            .init(
                sid: "PostToConnections", action: ["execute-api:ManageConnections"],
                resource: ["arn:aws:execute-api:\(region):\(account):\(apiID)/\(stage)/*/@connections/*"])
        ])
    }
}
