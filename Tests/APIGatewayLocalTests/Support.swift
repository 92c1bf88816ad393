import APIGatewayAWS
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import PeerSupport
import Synchronization
import WebSocketKit

@testable import APIGatewayLocal

/// A gateway on port 0 serving `api`, with the backend given by a recording loopback server.
struct Rig {
    let gateway: LocalGateway
    let backend: LoopbackServer
    let apiId: String
    let stage = "dev"

    var url: String { "ws://127.0.0.1:\(gateway.port!)/\(apiId)/\(stage)" }
    var managementURL: String { "http://127.0.0.1:\(gateway.port!)/\(apiId)/\(stage)" }

    /// Routes `$connect`, `$disconnect`, `$default` and `sendmessage` to `/ws/{connect,disconnect,default}`
    /// and `/ws/sendmessage`, with the connectionId mapping and the disconnect context mapped to headers.
    static func start(
        apiId: String = "abc123",
        routes: [String] = ["$connect", "$disconnect", "$default", "sendmessage"],
        twoWay: [String] = [],
        routeSelectionExpression: String = "$request.body.action",
        timeoutInMillis: Int = 29_000,
        backend handler: @escaping LoopbackServer.Handler = { _ in .init(status: 200) },
        configure: (inout LocalGatewayConfiguration) -> Void = { _ in }
    ) async throws -> Rig {
        let backend = try await LoopbackServer(handler)
        var configuration = LocalGatewayConfiguration(port: 0)
        configure(&configuration)
        let declaration = LocalDeclaration(apis: [
            .init(
                apiId: apiId, name: "test", routeSelectionExpression: routeSelectionExpression, stages: ["dev"],
                routes: Dictionary(
                    uniqueKeysWithValues: routes.map { key in
                        (key, backend.url + "/ws/" + (key.hasPrefix("$") ? String(key.dropFirst()) : key))
                    }),
                twoWayRoutes: twoWay,
                requestParameters: [
                    "integration.request.header.connectionId": "context.connectionId",
                    "integration.request.header.X-Ws-Gateway-Secret": "'s3cret'",
                    "integration.request.header.X-Disconnect-Code": "context.disconnectStatusCode",
                    "integration.request.header.X-Disconnect-Reason": "context.disconnectReason",
                ],
                timeoutInMillis: timeoutInMillis
            )
        ])
        configuration.apis = declaration.localAPIs()
        let gateway = LocalGateway(configuration: configuration)
        try await gateway.start()
        return Rig(gateway: gateway, backend: backend, apiId: apiId)
    }

    func stop() async throws {
        try await gateway.stop()
        try await backend.close()
    }

    /// The backend requests to `path`, in order.
    func requests(to path: String) -> [LoopbackServer.Request] { backend.requests.filter { splitURI($0.uri).path == path } }

    /// A ManagementClient signing with the gateway's development keys.
    func managementClient(credential: Credential = LocalGatewayConfiguration.developmentCredential) -> ManagementClient {
        ManagementClient(httpClient: .shared, credentials: StaticCredentialProvider(credential), retry: .init(maxAttempts: 1))
    }

    var endpoint: ManagementEndpoint { try! ManagementEndpoint(url: managementURL) }
}
