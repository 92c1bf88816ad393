public import HTTPTypes

/// A user API Gateway vouched for before the backend heard of the connect: a Lambda authorizer's
/// `principalId` or a value of its `context`, or the IAM caller of an `AWS_IAM` `$connect`. The
/// `$connect` integration maps it into a header (a request parameter,
/// `integration.request.header.X-Apigw-Principal = context.authorizer.principalId`, which
/// provisioning adds), and the dispatcher takes the connection's user from that header, so
/// ``Requirement``s, channel rules and presence work as with a login.
///
/// The header is believed only behind the gateway secret: with no
/// ``GatewayConfiguration/secrets`` configured nothing proves the request came through API
/// Gateway, so it is ignored (and ``GatewayDispatcher`` logs why at start).
///
/// ```swift
/// configuration.gatewayIdentity = .authorizerPrincipal()
/// ```
public struct GatewayIdentity: Sendable, Hashable {
    /// The header the `$connect` integration maps the user into.
    public var header: HTTPField.Name
    /// The mapping expression API Gateway takes it from: `context.authorizer.principalId`,
    /// `context.authorizer.KEY`, `context.identity.userArn`.
    public var source: String

    public init(header: HTTPField.Name, source: String) {
        self.header = header
        self.source = source
    }

    /// The default header, `X-Apigw-Principal`.
    public static let defaultHeader = HTTPField.Name("X-Apigw-Principal")!

    /// The authorizer's `principalId`.
    public static func authorizerPrincipal(header: HTTPField.Name = defaultHeader) -> GatewayIdentity {
        GatewayIdentity(header: header, source: "context.authorizer.principalId")
    }

    /// The value the authorizer put in its `context` under `key` (e.g. `userId`).
    public static func authorizerContext(_ key: String, header: HTTPField.Name = defaultHeader) -> GatewayIdentity {
        GatewayIdentity(header: header, source: "context.authorizer.\(key)")
    }

    /// The IAM user (its ARN) that signed an `AWS_IAM` `$connect`.
    public static func iamCaller(header: HTTPField.Name = defaultHeader) -> GatewayIdentity {
        GatewayIdentity(header: header, source: "context.identity.userArn")
    }

    /// The request parameter that maps it on the `$connect` integration.
    public var requestParameter: (key: String, value: String) {
        ("integration.request.header.\(header.rawName)", source)
    }
}
