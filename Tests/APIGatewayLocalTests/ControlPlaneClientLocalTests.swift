import APIGatewayAWS
@testable import APIGatewayLocal
import Foundation
import Testing

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
        let integration = try await client.createIntegration(apiId, .init(integrationType: "HTTP_PROXY", integrationMethod: "POST", integrationUri: "http://127.0.0.1:9/\(key)"))
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
