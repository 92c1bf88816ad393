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

/// The limits that keep one client from taking the gateway: rates, caps, heads, silent connections.
@Suite(.serialized) struct RateLimitsTests {

    @Test func connectRateAndCallbackBucketAnswer429() async throws {
        let now = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let rig = try await Rig.start(configure: {
            $0.clock = LocalClock { now.withLock { $0 } }
            $0.connectRateLimit = 2
            $0.callbackRateLimit = (rate: 1, burst: 2)
        })
        var statuses: [Int?] = []
        var clients: [RawClient] = []
        for _ in 0..<3 {
            let (client, status) = try await upgrade(rig, "/abc123/dev")
            statuses.append(status)
            clients.append(client)
        }
        #expect(statuses == [101, 101, 429])
        now.withLock { $0 += 1 }
        let (later, status) = try await upgrade(rig, "/abc123/dev")
        #expect(status == 101, "a second later the bucket has refilled")
        let id = try #require(rig.requests(to: "/ws/connect").last?.header("connectionId"))
        let management = rig.managementClient()
        try await management.post(ByteBuffer(string: "1"), to: id, endpoint: rig.endpoint, region: "us-east-1")
        try await management.post(ByteBuffer(string: "2"), to: id, endpoint: rig.endpoint, region: "us-east-1")
        let third = await #expect(throws: AWSError.self) {
            try await management.post(ByteBuffer(string: "3"), to: id, endpoint: rig.endpoint, region: "us-east-1")
        }
        #expect(third?.code == .limitExceeded)
        for client in clients + [later] { client.close() }
        try await rig.stop()
    }

    /// Row 28 of the fidelity table: a message takes from the account's bucket that `@connections`
    /// calls take from; past it, the client gets the throttled frame and the backend is not called.
    @Test func messagesAndCallbacksShareTheAccountBucket() async throws {
        let now = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let rig = try await Rig.start(configure: {
            $0.clock = LocalClock { now.withLock { $0 } }
            $0.callbackRateLimit = (rate: 1, burst: 2)
        })
        let (client, status) = try await upgrade(rig, "/abc123/dev")
        #expect(status == 101)
        let id = try #require(rig.requests(to: "/ws/connect").last?.header("connectionId"))
        try await client.send(RawClient.frame(opcode: 0x1, payload: Array(#"{"action":"sendmessage","n":1}"#.utf8)))
        #expect(await eventually { rig.requests(to: "/ws/sendmessage").count == 1 }, "the first message takes one token")
        try await rig.managementClient().post(ByteBuffer(string: "1"), to: id, endpoint: rig.endpoint, region: "us-east-1")
        try await client.send(RawClient.frame(opcode: 0x1, payload: Array(#"{"action":"sendmessage","n":2}"#.utf8)))
        #expect(await eventually { client.texts.contains { $0.contains(#""message": "Too Many Requests""#) } }, "\(client.texts)")
        #expect(rig.requests(to: "/ws/sendmessage").count == 1, "the throttled message reaches no backend")
        now.withLock { $0 += 1 }
        try await client.send(RawClient.frame(opcode: 0x1, payload: Array(#"{"action":"sendmessage","n":3}"#.utf8)))
        #expect(await eventually { rig.requests(to: "/ws/sendmessage").count == 2 }, "a second later the bucket has a token again")
        client.close()
        try await rig.stop()
    }

    @Test func connectionsPastTheCapAreRefusedWithAStatus() async throws {
        let rig = try await Rig.start(configure: { $0.maximumConnections = 2 })
        let (first, one) = try await upgrade(rig, "/abc123/dev")
        let (second, two) = try await upgrade(rig, "/abc123/dev")
        let (third, three) = try await upgrade(rig, "/abc123/dev")
        #expect([one, two, three] == [101, 101, 429])
        third.close()
        _ = await eventually { third.isClosed }
        first.close()
        // A place is free once the closed connection's task has ended (its `$disconnect` done),
        // not when it leaves the registry: wait for the count the cap reads.
        #expect(await eventually { rig.gateway.connectionCount == 1 && rig.gateway.openChannels.load(ordering: .relaxed) == 1 })
        let (fourth, four) = try await upgrade(rig, "/abc123/dev")
        #expect(four == 101, "a place freed by a close is taken again")
        second.close()
        fourth.close()
        try await rig.stop()
    }

    @Test func longTargetsAndHugeHeadsAreRefused() async throws {
        let rig = try await Rig.start()
        let long = try await RawClient.connect(port: rig.gateway.port!)
        try await long.send("GET /abc123/dev?\(String(repeating: "a", count: 9000)) HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await long.status() == 414)
        let huge = try await RawClient.connect(port: rig.gateway.port!)
        try await huge.send("GET /v2/apis HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 20_000))\r\n\r\n")
        #expect(await huge.status() == 400)
        let many = try await RawClient.connect(port: rig.gateway.port!)
        try await many.send("GET /v2/apis HTTP/1.1\r\nHost: x\r\n" + (0..<150).map { "X-\($0): v\r\n" }.joined() + "\r\n")
        #expect(await many.status() == 400)
        for client in [long, huge, many] { client.close() }
        try await rig.stop()
    }

    // The handshake timeout closes a connection that sends nothing, and only before it upgrades:
    // an upgraded connection has its own idle timeout.
    @Test func silentConnectionsAreCutButUpgradedOnesAreNot() async throws {
        // A second, so that a loaded machine still upgrades the other client within it.
        let rig = try await Rig.start(configure: { $0.handshakeTimeout = .seconds(1) })
        let silent = try await RawClient.connect(port: rig.gateway.port!)
        #expect(await eventually(timeout: .seconds(10)) { silent.isClosed })
        let client = try await TestClient.connect(rig.url)
        try await Task.sleep(for: .milliseconds(2_200))  // past the handshake timeout, twice over
        try await client.send("still here")
        #expect(await eventually { rig.requests(to: "/ws/default").last?.body == Array("still here".utf8) })
        try await client.close()
        try await rig.stop()
    }

    // A client that never reads the close frame is cut after closeTimeout, and gets its `$disconnect`.
    @Test func aClientThatDoesNotReadTheCloseIsCutOff() async throws {
        let rig = try await Rig.start(configure: {
            $0.outboundBufferLimit = 256 * 1024
            $0.closeTimeout = .milliseconds(300)
        })
        let (client, status) = try await upgrade(rig, "/abc123/dev")
        #expect(status == 101)
        try await client.stopReading()
        let id = try #require(rig.requests(to: "/ws/connect").last?.header("connectionId"))
        let management = rig.managementClient()
        for _ in 0..<400 {  // fill the kernel's buffers and the outbox
            do {
                try await management.post(ByteBuffer(repeating: 0x61, count: 120_000), to: id, endpoint: rig.endpoint, region: "us-east-1")
            } catch { break }
        }
        try await management.deleteConnection(id, endpoint: rig.endpoint, region: "us-east-1")
        #expect(await eventually(timeout: .seconds(3)) { rig.requests(to: "/ws/disconnect").last?.header("connectionId") == id })
        #expect(rig.gateway.connectionCount == 0)
        client.close()
        try await rig.stop()
    }

    @Test func plainRequestsPastTheCapGet503() async throws {
        let rig = try await Rig.start(configure: { $0.maximumConnections = 1 })
        let (held, status) = try await upgrade(rig, "/abc123/dev")
        #expect(status == 101)
        let plain = try await RawClient.connect(port: rig.gateway.port!)
        try await plain.send("GET /v2/apis HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await plain.status() == 503)
        plain.close()
        held.close()
        try await rig.stop()
    }
}
