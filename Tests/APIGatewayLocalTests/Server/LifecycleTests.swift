import APIGatewayAWS
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PeerSupport
import ServiceLifecycle
import Synchronization
import Testing

@testable import APIGatewayLocal

/// The one lifecycle, run(): graceful shutdown closes every connection and sends its $disconnect.
@Suite(.serialized) struct LifecycleTests {

    // `run()` polled for shutdown; now it ends on the service group's graceful shutdown, with every
    // connection closed (1001) and its `$disconnect` sent.
    @Test func runEndsOnGracefulShutdown() async throws {
        let backend = try await LoopbackServer { _ in .init(status: 200) }
        var configuration = LocalGatewayConfiguration(port: 0)
        configuration.apis = LocalDeclaration(apis: [
            .init(
                apiId: "abc123", stages: ["dev"],
                routes: ["$connect": backend.url + "/ws/connect", "$disconnect": backend.url + "/ws/disconnect"],
                requestParameters: ["integration.request.header.X-Disconnect-Code": "context.disconnectStatusCode"])
        ]).localAPIs()
        let gateway = LocalGateway(configuration: configuration)
        let group = ServiceGroup(services: [gateway], logger: .init(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(await eventually { gateway.port != nil })
            let client = try await TestClient.connect("ws://127.0.0.1:\(gateway.port!)/abc123/dev")
            await group.triggerGracefulShutdown()
            #expect(await client.closeCode() == 1001)
            try await tasks.waitForAll()
        }
        #expect(backend.requests.filter { $0.uri.hasPrefix("/ws/disconnect") }.first?.header("X-Disconnect-Code") == "1001")
        try await backend.close()
    }
}
