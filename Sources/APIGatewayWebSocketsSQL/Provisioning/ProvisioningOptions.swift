public import APIGatewayProvisioning
public import APIGatewayWebSockets
public import Foundation

/// What provisioning may do: a Vapor app sets it on its `WebSocketGateway`, any app passes it to
/// ``GatewayProvisioner``.
public struct ProvisioningOptions: Sendable {
    /// When not empty, the only hosts a gateway's target base URL or an additional route's
    /// integration URL may name.
    public var allowedIntegrationHosts: Set<String>
    /// Routes whose HTTP answer API Gateway sends back to the client (a `$default` route response),
    /// besides those of two-way controllers (`WebSocketController.twoWay`): additional routes, say.
    public var twoWayRouteKeys: Set<RouteKey>
    /// An apply's claim older than this is taken to be from a process that died.
    public var claimTimeout: TimeInterval
    /// What API Gateway checks before the backend hears of a request: a `$connect` authorizer or
    /// IAM, an API key, throttles, the access log. Every gateway record is planned with them, and
    /// with the dispatcher's `gatewayIdentity` mapped on `$connect`.
    public var guards: DesiredAPI.Guards

    public init(
        allowedIntegrationHosts: Set<String> = [], twoWayRouteKeys: Set<RouteKey> = [], claimTimeout: TimeInterval = 15 * 60,
        guards: DesiredAPI.Guards = DesiredAPI.Guards()
    ) {
        self.guards = guards
        self.allowedIntegrationHosts = Set(allowedIntegrationHosts.map { $0.lowercased() })
        self.twoWayRouteKeys = twoWayRouteKeys
        self.claimTimeout = claimTimeout
    }
}
