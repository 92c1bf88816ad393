public import HTTPTypes

/// A user API Gateway vouched for before the backend heard of the connect: a Lambda authorizer's
/// `principalId` or a value of its `context`, or the IAM caller of an `AWS_IAM` `$connect`. The
/// `$connect` integration maps it into a header (a request parameter,
/// `integration.request.header.X-Apigw-Principal = context.authorizer.principalId`, which
/// provisioning adds), and the dispatcher takes the connection's user from that header, so
/// ``Requirement``s, channel rules and presence work as with a login.
///
/// The header is believed only when the same integration also sends ``proofHeader`` with the
/// gateway secret as a static value, which provisioning maps beside it. The secret alone proves
/// the request came through API Gateway, but not that this header did: an integration without the
/// mapping forwards a `$connect` client's own headers. With no ``GatewayConfiguration/secrets``
/// nothing is proved, so the header is ignored (and ``GatewayDispatcher`` logs why at start).
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

    /// `X-Apigw-Identity-Mapped`: the gateway secret, sent by the integration that maps the
    /// identity, and only by it.
    public static let proofHeader = HTTPField.Name("X-Apigw-Identity-Mapped")!

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

    /// The request parameters of the `$connect` integration: the identity, and the proof that it
    /// was mapped (`secret`, a static value).
    public func requestParameters(secret: String) -> [String: String] {
        [requestParameter.key: requestParameter.value, "integration.request.header.\(Self.proofHeader.rawName)": "'\(secret)'"]
    }
}
