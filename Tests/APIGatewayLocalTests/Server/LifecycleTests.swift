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
    /// A gateway made and never run is dropped without a trap: its integration client used to
    /// reach its deinit unshut, which async-http-client traps on in a debug build (a maintenance
    /// command of the Hummingbird example crashed so).
    @Test func aGatewayThatNeverRanIsDroppedCleanly() async throws {
        for _ in 0..<3 { _ = LocalGateway(configuration: LocalGatewayConfiguration(port: 0)) }
        try await Task.sleep(for: .milliseconds(50))  // the shutdowns it began finish
    }

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
            // Waited for, not polled: on a loaded machine binding can take longer than a poll's timeout.
            let port = try await gateway.waitUntilRunning()
            let client = try await TestClient.connect("ws://127.0.0.1:\(port)/abc123/dev")
            await group.triggerGracefulShutdown()
            #expect(await client.closeCode() == 1001)
            try await tasks.waitForAll()
        }
        #expect(backend.requests.filter { $0.uri.hasPrefix("/ws/disconnect") }.first?.header("X-Disconnect-Code") == "1001")
        try await backend.close()
    }

    /// Shutdown with a message at the backend: the gateway waits for the answer (up to
    /// `drainTimeout`) before it closes connections and `run()` returns.
    @Test func shutdownWaitsForAMessageAtTheBackend() async throws {
        let answered = try await shutDownWithAMessageAtTheBackend(answeredAfter: .milliseconds(300), drainTimeout: .seconds(10))
        #expect(answered, "run() returned before the backend answered")
    }

    /// A backend that does not answer within `drainTimeout` does not hold shutdown up.
    @Test func shutdownStopsWaitingAtTheDrainTimeout() async throws {
        let answered = try await shutDownWithAMessageAtTheBackend(answeredAfter: .seconds(20), drainTimeout: .milliseconds(200))
        #expect(!answered, "run() waited past the drain timeout")
    }

    /// Connects a client to a gateway whose backend answers a message after `answeredAfter`,
    /// sends one, shuts down once the backend has it, and says, when `run()` has returned,
    /// whether the backend had answered.
    private func shutDownWithAMessageAtTheBackend(answeredAfter: Duration, drainTimeout: Duration) async throws -> Bool {
        let answered = Atomic(false)
        let backend = try await LoopbackServer { request in
            if request.uri.hasPrefix("/ws/default") {
                try? await Task.sleep(for: answeredAfter)
                answered.store(true, ordering: .sequentiallyConsistent)
            }
            return .init(status: 200)
        }
        var configuration = LocalGatewayConfiguration(port: 0)
        configuration.drainTimeout = drainTimeout
        configuration.apis = LocalDeclaration(apis: [
            .init(
                apiId: "abc123", stages: ["dev"],
                routes: ["$connect": backend.url + "/ws/connect", "$default": backend.url + "/ws/default"])
        ]).localAPIs()
        let gateway = LocalGateway(configuration: configuration)
        let group = ServiceGroup(services: [gateway], logger: .init(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // Waited for, not polled: on a loaded machine binding can take longer than a poll's timeout.
            let port = try await gateway.waitUntilRunning()
            let client = try await TestClient.connect("ws://127.0.0.1:\(port)/abc123/dev")
            try await client.send(#"{"action":"work"}"#)
            #expect(await eventually { backend.requests.contains { $0.uri.hasPrefix("/ws/default") } })
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let wasAnswered = answered.load(ordering: .sequentiallyConsistent)
        try await backend.close()
        return wasAnswered
    }
}
