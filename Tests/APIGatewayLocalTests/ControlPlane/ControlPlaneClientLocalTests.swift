import APIGatewayAWS
import Foundation
import PeerSupport
import Testing

@testable import APIGatewayLocal

/// Our control-plane client against the local gateway's control plane (itself checked with boto3).
@Test func controlPlaneClientProvisionsOnTheLocalGateway() async throws {
    let gateway = LocalGateway(configuration: LocalGatewayConfiguration(port: 0))
    try await gateway.start()
    let client = ControlPlaneClient(
        httpClient: .shared, credentials: StaticCredentialProvider(LocalGatewayConfiguration.developmentCredential),
        region: "us-east-1", endpoint: "http://127.0.0.1:\(gateway.port!)"
    )
    let api = try await client.createApi(.init(name: "p", protocolType: "WEBSOCKET", routeSelectionExpression: "$request.body.action"))
    let apiId = try #require(api.apiId)
    #expect(api.apiEndpoint == "ws://127.0.0.1:\(gateway.port!)/\(apiId)")
    for key in ["$connect", "$disconnect", "$default"] {
        let integration = try await client.createIntegration(
            apiId, .init(integrationType: "HTTP_PROXY", integrationMethod: "POST", integrationUri: "http://127.0.0.1:9/\(key)"))
        _ = try await client.createRoute(apiId, .init(routeKey: key, target: "integrations/\(integration.integrationId!)"))
    }
    #expect(try await client.getRoutes(apiId, pageSize: 1).compactMap(\.routeKey).sorted() == ["$connect", "$default", "$disconnect"])
    _ = try await client.createStage(apiId, .init(stageName: "dev"))
    let deployment = try await client.createDeployment(apiId, .init(stageName: "dev"))
    #expect(try await client.getStage(apiId, "dev").deploymentId == deployment.deploymentId)
    try await client.deleteApi(apiId)
    let gone = await #expect(throws: AWSError.self) { try await client.getApi(apiId) }
    #expect(gone?.code == .notFound)
    try await gateway.stop()
}

/// Our client's custom-domain calls against the local gateway (which boto3 also checks).
@Test func controlPlaneClientManagesCustomDomainsOnTheLocalGateway() async throws {
    let gateway = LocalGateway(configuration: LocalGatewayConfiguration(port: 0))
    try await gateway.start()
    let client = ControlPlaneClient(
        httpClient: .shared, credentials: StaticCredentialProvider(LocalGatewayConfiguration.developmentCredential),
        region: "us-east-1", endpoint: "http://127.0.0.1:\(gateway.port!)"
    )
    let apiId = try #require(
        try await client.createApi(.init(name: "d", protocolType: "WEBSOCKET", routeSelectionExpression: "$request.body.action")).apiId)
    _ = try await client.createStage(apiId, .init(stageName: "dev"))
    let certificate = "arn:aws:acm:us-east-1:123456789012:certificate/one"
    let created = try await client.createDomainName(
        .init(domainName: "WS.Example.com", domainNameConfigurations: [.init(certificateArn: certificate)]))
    #expect(created.domainName == "ws.example.com", "domain names are case-insensitive")
    let target = try #require(created.domainNameConfigurations?.first)
    #expect(target.apiGatewayDomainName?.hasSuffix(".execute-api.localhost") == true && target.hostedZoneId != nil)
    let updated = try await client.updateDomainName(
        "ws.example.com", .init(domainNameConfigurations: [.init(certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/two")]))
    #expect(updated.domainNameConfigurations?.first?.certificateArn == "arn:aws:acm:us-east-1:123456789012:certificate/two")
    #expect(
        try await client.getDomainName("ws.example.com").domainNameConfigurations?.first?.apiGatewayDomainName
            == target.apiGatewayDomainName)

    let mapping = try await client.createApiMapping("ws.example.com", .init(apiId: apiId, stage: "dev"))
    #expect(try await client.getApiMappings("ws.example.com").map(\.apiMappingId) == [mapping.apiMappingId])
    let taken = await #expect(throws: AWSError.self, "one mapping per key") {
        try await client.createApiMapping("ws.example.com", .init(apiId: apiId, stage: "dev"))
    }
    #expect(taken?.code == .conflict)
    try await client.deleteApiMapping("ws.example.com", try #require(mapping.apiMappingId))
    #expect(try await client.getApiMappings("ws.example.com").isEmpty)
    try await client.deleteDomainName("ws.example.com")
    let gone = await #expect(throws: AWSError.self) { try await client.getDomainName("ws.example.com") }
    #expect(gone?.code == .notFound)
    try await gateway.stop()
}

/// `context.domainName` and custom-domain routing use the `Host` without its port, lower-cased,
/// as AWS shows it (clients send `host:port` to a local port).
@Test(arguments: [
    ("ws.example.com", "ws.example.com"), ("WS.Example.com:8443", "ws.example.com"), ("127.0.0.1:8081", "127.0.0.1"),
    ("[::1]:8081", "[::1]"), ("[::1]", "[::1]"),
])
func hostNamesDropThePort(host: String, name: String) {
    #expect(LocalGateway.hostName(host) == name)
}
