import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import NIOCore
import Synchronization
import Testing

@Suite struct RoutingTests {
    @Test func handlerKeyThenActionThenDefault() async throws {
        let harness = try Harness()
        let connection = try await harness.connected()
        let cases: [(String, String)] = [
            (#"{"handler":"greet","action":"nested","name":"ada"}"#, "greet"),  // handler beats action
            (#"{"action":"greet","name":"bob"}"#, "greet"),  // action when no handler key
            (#"{"handler":"nope","action":"greet","name":"cy"}"#, "greet"),  // unknown handler, known action
            (#"{"handler":"nope"}"#, "default"),  // a name nobody registered goes to default
            (#"{"handler":"handlers"}"#, "default"),  // nothing is reachable by reflection
            (#"{"handler":7,"action":["greet"]}"#, "default"),  // non-strings name nothing
            ("hello, not JSON", "default"),
            ("[1,2]", "default"),
        ]
        for (body, expected) in cases {
            harness.poster.reset()
            #expect(try await connection.send(body).status == .ok, "\(body)")
            #expect(harness.poster.texts(to: connection.id).map(json).first?["handler"] == expected, "\(body)")
        }
    }

    @Test func rawDefaultGetsTheBodyByteForByte() async throws {
        let harness = try Harness()
        let connection = try await harness.connected()
        let body = "  {\"x\": \"é\\u0000\"}  \n"
        try await connection.send(body)
        #expect(harness.poster.texts(to: connection.id).map(json).first?["body"] == body)
    }

    @Test func registrationServesTheGuidesPaths() throws {
        let harness = try Harness(
            controllers: [EchoController(), StrictController(), NamedRoute(key: "notifications")],
            customPaths: [nil, nil, "websockets/notifications/"])
        #expect(
            harness.dispatcher.routes.map(\.description) == [
                "$connect → POST /ws/connect",
                "$disconnect → POST /ws/disconnect",
                "$default → POST /ws/default",
                "strict → POST /ws/strict",
                "notifications → POST /websockets/notifications/",
            ])
        #expect(harness.dispatcher.endpoint(at: "/websockets/notifications")?.route.routeKey.rawValue == "notifications")
    }

    @Test func duplicateRouteKeysAndPathsAreRefused() throws {
        let harness = try Harness(controllers: [EchoController(), NamedRoute(key: "a")])
        #expect(throws: RegistrationError.self) { try harness.dispatcher.register(NamedRoute(key: "a"), at: "/elsewhere") }
        #expect(throws: RegistrationError.self) { try harness.dispatcher.register(NamedRoute(key: "b"), at: "/ws/a/") }
        #expect(throws: RegistrationError.self) { try harness.dispatcher.register(EchoController()) }
        #expect(throws: RegistrationError.self) { try harness.dispatcher.register(NamedRoute(key: "connect")) }
        #expect(harness.dispatcher.routes.count == 4)
    }

    @Test func customRouteReachesItsController() async throws {
        let harness = try Harness(
            controllers: [EchoController(), NamedRoute(key: "notifications")], customPaths: [nil, "/websockets/notifications/"])
        let connection = try await harness.connected()
        try await connection.send(#"{"action":"notifications"}"#)
        try await connection.send(#"{"action":"other"}"#)
        let replies = harness.poster.texts(to: connection.id).map(json)
        #expect(replies.map { $0["handler"] } == ["notifications", "default"])
    }

    @Test func connectRecordsTheSession() async throws {
        let records = [GatewayRecord(apiID: apiID, stage: "dev", region: "r", defaultChannel: ChannelName("general"))]
        let controller = EchoController { context in
            context.queryParameter("room") == "vip" ? .accept(channel: ChannelName("vip"), userID: "u-1") : .accept
        }
        let harness = try Harness(records: records, controllers: [controller])
        let plain = try await harness.connected()
        let chosen = try await harness.connected(query: ["channel": "lobby"])
        let vip = try await harness.connected(query: ["channel": "lobby", "room": "vip"])
        let sessions = try await [plain, chosen, vip].asyncMap { try await harness.store.session($0.id) }
        let channels = try await [plain, chosen, vip].asyncMap { try await harness.store.channels(of: $0.id, apiID: apiID) }
        #expect(channels.map { $0.map(\.rawValue) } == [["general"], ["lobby"], ["vip"]])
        #expect(sessions.map { $0?.userID } == [nil, nil, "u-1"])
        #expect(sessions.allSatisfy { $0?.connected == true && $0?.stage == "dev" && $0?.apiID == apiID && $0?.requestCount == 0 })
    }

    @Test func messagesCountAndDisconnectMarks() async throws {
        let harness = try Harness()
        let connection = try await harness.connected()
        for _ in 0..<3 { try await connection.send(#"{"handler":"quiet"}"#) }
        #expect(try await harness.store.session(connection.id)?.requestCount == 3)
        #expect(try await connection.disconnect().status == .ok)
        #expect(try await harness.store.session(connection.id)?.connected == false)
        // A repeated $disconnect is not an error.
        #expect(try await connection.disconnect().status == .ok)
    }

    // The disconnect hook ran for any id: one never connected, or one already disconnected.
    @Test func theDisconnectHookRunsOnceForAConnectedSessionOnly() async throws {
        let recorder = DisconnectRecorder()
        let harness = try Harness(controllers: [recorder])
        let refused = try await harness.gateway.connect(query: ["channel": "has space"])
        #expect(!refused.isAccepted)
        #expect(try await refused.disconnect().status == .ok)
        let connection = try await harness.connected()
        #expect(try await connection.disconnect().status == .ok)
        #expect(try await connection.disconnect().status == .ok)
        #expect(recorder.disconnected.withLock { $0 } == [connection.id])
    }

    @Test func retriedConnectIsIdempotent() async throws {
        let harness = try Harness()
        let first = try await harness.connected(query: ["channel": "a"])
        try await first.send(#"{"handler":"quiet"}"#)
        let retry = try await harness.gateway.connect(query: ["channel": "b"], connectionID: first.id)
        #expect(retry.connectResponse.status == .ok)
        let session = try await harness.store.session(first.id)
        #expect(try await harness.store.channels(of: first.id, apiID: apiID) == [ChannelName("b")])
        #expect(session?.requestCount == 1)
    }
}

/// Records the ids its disconnect hook ran for.
final class DisconnectRecorder: WebSocketController {
    let routeKey = RouteKey.default
    let disconnected = Mutex<[ConnectionID]>([])
    func handlers(_ handlers: inout HandlerRegistry) {}
    func disconnect(_ context: DisconnectContext) async throws { disconnected.withLock { $0.append(context.connectionID) } }
}

/// A custom route whose default handler names the route.
struct NamedRoute: WebSocketController {
    let routeKey: RouteKey
    init(key: String) { routeKey = try! RouteKey(key) }
    func handlers(_ handlers: inout HandlerRegistry) {
        let name = routeKey.rawValue
        handlers.onRaw("default") { _, context in try await context.reply(["handler": name]) }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

/// The directory answers known APIs from memory and reloads on an unknown id at most once per
/// interval, joining a reload under way.
@Suite struct GatewayDirectoryTests {
    final class Source: Sendable {
        let loads = Mutex<Int>(0)
        let records = Mutex<[GatewayRecord]>([])
        func load() async throws -> [GatewayRecord] {
            loads.withLock { $0 += 1 }
            try await Task.sleep(for: .milliseconds(20))
            return records.withLock { $0 }
        }
    }

    @Test func reloadsOnMissAtMostOncePerInterval() async throws {
        let source = Source()
        source.records.withLock { $0 = [GatewayRecord(apiID: apiID, stage: "dev", region: "r")] }
        let directory = CachedGatewayDirectory(refreshInterval: .seconds(3600)) { try await source.load() }
        // Concurrent first lookups share one load.
        let found = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<10 { group.addTask { try await directory.gateway(apiID) != nil } }
            return try await group.reduce(true) { $0 && $1 }
        }
        #expect(found && source.loads.withLock { $0 } == 1)
        // Known ids cost no load; an unknown one within the interval costs none either.
        #expect(try await directory.gateway(apiID) != nil)
        source.records.withLock { $0.append(GatewayRecord(apiID: otherAPIID, stage: "dev", region: "r")) }
        #expect(try await directory.gateway(otherAPIID) == nil)
        #expect(source.loads.withLock { $0 } == 1)
        // An explicit reload learns of it.
        try await directory.reload()
        #expect(try await directory.gateway(otherAPIID) != nil && source.loads.withLock { $0 } == 2)
    }

    /// A record written while a load is under way (one that read before the write) is seen by
    /// the writer's reload: the reload does not hand back the stale load.
    @Test func reloadAfterAWriteSeesIt() async throws {
        let records = Mutex<[GatewayRecord]>([])
        let (started, release) = (AsyncStream<Void>.makeStream(), AsyncStream<Void>.makeStream())
        let loads = Mutex<Int>(0)
        let directory = CachedGatewayDirectory(refreshInterval: .zero) {
            let snapshot = records.withLock { $0 }
            if loads.withLock({
                $0 += 1; return $0
            }) == 1 {
                started.continuation.yield()
                for await _ in release.stream { break }
            }
            return snapshot
        }
        let miss = Task { try await directory.gateway(apiID) }
        for await _ in started.stream { break }
        records.withLock { $0 = [GatewayRecord(apiID: apiID, stage: "dev", region: "r")] }  // the write
        let reload = Task { try await directory.reload() }
        try await Task.sleep(for: .milliseconds(20))
        release.continuation.yield()
        #expect(try await miss.value == nil, "the miss joined the load that read before the write")
        #expect(try await reload.value[apiID] != nil)
        #expect(try await directory.gateway(apiID) != nil && loads.withLock { $0 } == 2)
    }

    @Test func unknownIdReloadsOnceTheIntervalHasPassed() async throws {
        let source = Source()
        let directory = CachedGatewayDirectory(refreshInterval: .zero) { try await source.load() }
        #expect(try await directory.gateway(apiID) == nil)
        source.records.withLock { $0 = [GatewayRecord(apiID: apiID, stage: "dev", region: "r")] }
        #expect(try await directory.gateway(apiID) != nil, "registered by another process, found on the next miss")
        #expect(source.loads.withLock { $0 } == 2)
    }
}
