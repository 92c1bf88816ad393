import AsyncHTTPClient
import Foundation
import NIOCore
import PeerSupport
import Synchronization
import Testing

@testable import APIGatewayAWS

@Suite struct ControlPlaneClientTests {
    let credentials = StaticCredentialProvider(Credential(accessKeyID: "AKIATEST", secretAccessKey: "secret"))

    @Test func paginationFollowsNextTokenAndRequestsAreSigned() async throws {
        let server = try await LoopbackServer { request in
            switch request.uri {
            case "/v2/apis/abc/routes?maxResults=2":
                .init(body: #"{"items":[{"routeId":"r1","routeKey":"$connect"},{"routeId":"r2","routeKey":"$default"}],"nextToken":"t2"}"#)
            case "/v2/apis/abc/routes?maxResults=2&nextToken=t2":
                .init(body: #"{"items":[{"routeId":"r3","routeKey":"send","target":null}]}"#)
            default: .init(status: 404, headers: [("x-amzn-ErrorType", "NotFoundException")], body: #"{"message":"nope"}"#)
            }
        }
        let client = ControlPlaneClient(httpClient: .shared, credentials: credentials, region: "eu-west-1", endpoint: server.url)
        let routes = try await client.getRoutes("abc", pageSize: 2)
        #expect(routes.map(\.routeKey) == ["$connect", "$default", "send"])
        #expect(server.requests.count == 2)
        let authorization = try #require(server.requests.first?.header("Authorization"))
        #expect(authorization.contains("/eu-west-1/apigateway/aws4_request"))
        try await server.close()
    }

    @Test(arguments: [
        (404, "NotFoundException", AWSError.Code.notFound),
        (409, "ConflictException", .conflict),
        (429, "TooManyRequestsException", .tooManyRequests),
        (400, "BadRequestException", .badRequest),
    ])
    func errorsAreTyped(_ status: Int, _ type: String, _ code: AWSError.Code) async throws {
        let server = try await LoopbackServer { _ in .init(status: status, headers: [("x-amzn-ErrorType", type)], body: #"{"message":"m"}"#)
        }
        let client = ControlPlaneClient(httpClient: .shared, credentials: credentials, region: "us-east-1", endpoint: server.url)
        let error = await #expect(throws: AWSError.self) { try await client.getApi("x") }
        #expect(error?.code == code && error?.status == status && error?.message == "m")
        try await server.close()
    }

    @Test func againstMoto() async throws {
        guard let moto = try await MotoServer.start() else { return }
        defer { moto.stop() }
        let client = ControlPlaneClient(httpClient: .shared, credentials: credentials, region: "us-east-1", endpoint: moto.url)
        let api = try await client.createApi(
            .init(name: "chat", protocolType: "WEBSOCKET", routeSelectionExpression: "$request.body.action"))
        let apiId = try #require(api.apiId)
        let integration = try await client.createIntegration(
            apiId,
            .init(
                integrationType: "HTTP_PROXY", integrationMethod: "POST", integrationUri: "https://backend.example.com/ws/default",
                payloadFormatVersion: "1.0", requestParameters: ["integration.request.header.connectionId": "context.connectionId"],
                timeoutInMillis: 29_000
            ))
        let route = try await client.createRoute(
            apiId, .init(routeKey: "$default", target: "integrations/\(integration.integrationId ?? "")"))
        #expect(route.routeKey == "$default")
        #expect(try await client.getRoutes(apiId).map(\.routeKey) == ["$default"])
        #expect(try await client.getIntegrations(apiId).first?.integrationUri == "https://backend.example.com/ws/default")
        #expect(try await client.getApi(apiId).name == "chat")
        let missing = await #expect(throws: AWSError.self) { try await client.getApi("doesnotexist") }
        #expect(missing?.code == .notFound)
    }
}
