import APIGatewayLocal
import APIGatewayWebSocketsClient
import APIGatewayWebSocketsClientURLSession
import Foundation
import PeerSupport
import Testing

/// The URLSession transport against the local gateway. Linux's Foundation speaks WebSocket only
/// when its libcurl does; where it does not, the handshake must fail with that reason, promptly,
/// and the client must give up instead of hanging. Where it does, a frame goes both ways.
@Suite struct URLSessionTransportTests {
    @Test func aHandshakeOpensOrFailsWithItsReason() async throws {
        // An API with no routes: a connect is accepted, and a message is answered `Forbidden`.
        var configuration = LocalGatewayConfiguration(port: 0)
        configuration.apis = LocalDeclaration(apis: [.init(apiId: "plain1", stages: ["dev"], routes: [:])]).localAPIs()
        let gateway = LocalGateway(configuration: configuration)
        try await gateway.start()
        defer { Task { try? await gateway.stop() } }
        let url = try #require(URL(string: "ws://127.0.0.1:\(gateway.port!)/plain1/dev"))

        let opened: any GatewayConnection
        do {
            opened = try await URLSessionTransport().open(url, headers: [("X-Test", "1")], timeout: .seconds(10))
        } catch let error as GatewayTransportError {
            try #require(
                error.description.contains("not supported by libcurl"), "the only failure expected of a handshake here: \(error)")
            let client = GatewayClient(
                url: url, configuration: .init(heartbeatAction: nil, maximumFailedConnects: 1), transport: URLSessionTransport())
            await #expect(throws: GatewayTransportError.self, "the client gives up with the transport's reason") { try await client.connect() }
            return
        }
        try await opened.send("hello")
        var frames = opened.inbound.makeAsyncIterator()
        let answer = await frames.next()
        #expect(answer?.contains("Forbidden") == true, "\(answer ?? "nothing")")
        await opened.close()
        #expect(await frames.next() == nil, "closed, the inbound stream ends")
        let missing = URL(string: "ws://127.0.0.1:\(gateway.port!)/missing/dev")!
        await #expect(throws: GatewayTransportError.self) { try await URLSessionTransport().open(missing, headers: [], timeout: .seconds(10)) }
    }
}
