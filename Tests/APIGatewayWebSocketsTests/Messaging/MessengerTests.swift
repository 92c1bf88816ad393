import APIGatewayAWS
import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import AsyncHTTPClient
import Foundation
import NIOCore
import PeerSupport
import Synchronization
import Testing

@Suite struct MessengerTests {
    let gateway = GatewayRecord(apiID: apiID, stage: "dev", region: "eu-west-1")

    func populated(_ count: Int, from first: Int = 0, channel: String = "room", store: InMemoryConnectionStore = InMemoryConnectionStore())
        async throws -> (InMemoryConnectionStore, [ConnectionID])
    {
        var ids: [ConnectionID] = []
        for n in first..<first + count {
            let id = try ConnectionID(String(format: "c%05d=", n))
            _ = try await store.connect(
                Session(connectionID: id, apiID: apiID, stage: "dev", createdAt: Date()), joining: try ChannelName(channel))
            ids.append(id)
        }
        return (store, ids)
    }

    @Test func channelFanOutCrossesPages() async throws {
        let (store, ids) = try await populated(57)
        _ = try await populated(3, from: 100, channel: "elsewhere", store: store)
        let poster = RecordingPoster()
        let messenger = Messenger(store: store, poster: poster, pageSize: 10, maxConcurrentPosts: 4)
        let report = try await messenger.send(try Payload(text: "hi"), to: .channel(ChannelName("room")), on: gateway)
        #expect(report.sent == 57 && report.gone.isEmpty && report.failedCount == 0)
        #expect(Set(poster.posts.map(\.connectionID)) == Set(ids))
        #expect(poster.posts.allSatisfy { $0.text == "hi" && $0.stage == "dev" })
    }

    @Test func goneConnectionsAreMarkedDisconnectedInBulk() async throws {
        let (store, ids) = try await populated(25)
        let poster = RecordingPoster()
        for id in ids where id.rawValue.hasSuffix("3=") { poster.markGone(id) }
        struct Boom: Error {}
        poster.fail(ids[0], with: Boom())
        let messenger = Messenger(store: store, poster: poster, pageSize: 7)
        let report = try await messenger.send(try Payload(text: "x"), to: .everyone, on: gateway)
        #expect(report.gone.map(\.rawValue).sorted() == ["c00003=", "c00013=", "c00023="])
        #expect(report.failedCount == 1 && report.failures.first?.connectionID == ids[0])
        #expect(report.sent == 21)
        for id in report.gone { #expect(try await store.session(id)?.connected == false) }
        #expect(try await store.session(ids[0])?.connected == true, "a failure is not gone")
        // The next broadcast no longer tries the gone connections.
        poster.reset()
        let second = try await messenger.send(try Payload(text: "y"), to: .everyone, on: gateway)
        #expect(second.attempted == 22)
    }

    @Test func unicastToAGoneConnectionMarksItsSession() async throws {
        let (store, ids) = try await populated(2)
        let poster = RecordingPoster()
        poster.markGone(ids[1])
        let messenger = Messenger(store: store, poster: poster)
        let report = try await messenger.send(try Payload(text: "x"), to: .connection(ids[1]), on: gateway)
        #expect(report.gone == [ids[1]] && report.sent == 0)
        #expect(try await store.session(ids[1])?.connected == false)
    }

    // A 410 without `x-amzn-ErrorType` (a proxy's, or a body-less answer) was counted a failure,
    // so the session was never marked gone.
    @Test(arguments: [[("x-amzn-ErrorType", "GoneException")], []])
    func every410IsGone(headers: [(String, String)]) async throws {
        let (store, ids) = try await populated(1)
        let server = try await LoopbackServer { _ in .init(status: 410, headers: headers) }
        let client = ManagementClient(
            httpClient: .shared, credentials: StaticCredentialProvider(Credential(accessKeyID: "AKIDTEST", secretAccessKey: "s")))
        var local = gateway
        local.managementEndpoint = try ManagementEndpoint(url: server.url)
        let report = try await Messenger(store: store, poster: client).send(try Payload(text: "x"), to: .connection(ids[0]), on: local)
        #expect(report.gone == ids && report.failedCount == 0)
        #expect(try await store.session(ids[0])?.connected == false)
        try await server.close()
    }

    @Test func concurrencyIsBounded() async throws {
        let (store, _) = try await populated(200)
        let poster = SlowPoster()
        let messenger = Messenger(store: store, poster: poster, pageSize: 50, maxConcurrentPosts: 8)
        let report = try await messenger.send(try Payload(text: "x"), to: .everyone, on: gateway)
        #expect(report.sent == 200)
        #expect(poster.peak.load(ordering: .relaxed) <= 8)
        #expect(poster.peak.load(ordering: .relaxed) >= 2, "posts overlap")
    }

    @Test func oversizePayloadIsRefusedBeforeAnyPost() throws {
        #expect(throws: MessagingError.payloadTooLarge(size: 131_073, limit: 131_072)) {
            try Payload(bytes: ByteBuffer(repeating: 0x61, count: 131_073))
        }
        #expect(try Payload(bytes: ByteBuffer(repeating: 0x61, count: 131_072)).bytes.readableBytes == 131_072)
    }

    @Test func channelAndUserAudiencesThroughTheDispatcher() async throws {
        let harness = try Harness(controllers: [ChannelController()])
        let a = try await harness.connected(query: ["channel": "red"])
        let b = try await harness.connected(query: ["channel": "red"])
        let c = try await harness.connected(query: ["channel": "blue"])
        try await a.send(#"{"action":"x","handler":"red"}"#)
        #expect(harness.poster.posts.map(\.connectionID).sorted() == [a.id, b.id].sorted())
        harness.poster.reset()
        try await c.send(#"{"handler":"all"}"#)
        #expect(harness.poster.posts.count == 3)
    }
}

private struct ChannelController: WebSocketController {
    let routeKey = RouteKey.default
    func handlers(_ handlers: inout HandlerRegistry) {
        handlers.onRaw("red") { _, context in try await context.send(["hello": "red"], to: .channel(ChannelName("red"))) }
        handlers.onRaw("all") { _, context in try await context.send(["hello": "all"], to: .everyone) }
    }
}

/// Sleeps a little per post and records the peak number in flight.
private final class SlowPoster: ConnectionPoster {
    let inFlight = Atomic<Int>(0)
    let peak = Atomic<Int>(0)

    func post(_ payload: Payload, to connection: ConnectionID, on gateway: GatewayRecord) async throws -> PostResult {
        let now = inFlight.wrappingAdd(1, ordering: .relaxed).newValue
        peak.max(now, ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(1))
        inFlight.wrappingSubtract(1, ordering: .relaxed)
        return .sent
    }

    func close(_ connection: ConnectionID, on gateway: GatewayRecord) async throws -> PostResult { .sent }
}
