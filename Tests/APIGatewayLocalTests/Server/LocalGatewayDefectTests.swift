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

/// One test for each way a client could take the local gateway down, or make it lie, before the
/// rebuild on structured concurrency: each failed (or crashed the process) on the old server.
@Suite(.serialized) struct LocalGatewayDefectTests {
    /// A raw upgrade on `rig`, its status; the client stays open.
    func upgrade(_ rig: Rig, _ target: String, headers: [(String, String)] = []) async throws -> (RawClient, Int?) {
        let client = try await RawClient.connect(port: rig.gateway.port!)
        try await client.send(RawClient.upgrade(target, headers: headers))
        return (client, await client.status())
    }

    // `?name=%zz` trapped URLComponents.percentEncodedQuery and killed the process.
    @Test func queriesNoURLCanHoldAreEscapedAndForwarded() async throws {
        let rig = try await Rig.start()
        let raw = "name=%zz&brace={}&bar=|&tick=`&slash=\\&quote=\"&angle=<>&ok=%41"
        let (client, status) = try await upgrade(rig, "/abc123/dev?" + raw)
        #expect(status == 101)
        let connect = try #require(rig.requests(to: "/ws/connect").last)
        #expect(splitURI(connect.uri).query == "name=%25zz&brace=%7B%7D&bar=%7C&tick=%60&slash=%5C&quote=%22&angle=%3C%3E&ok=%41")
        client.close()
        // Raw UTF-8 and spaces in a request line are not HTTP: NIO's parser answers 400.
        let (utf8, refused) = try await upgrade(rig, "/abc123/dev?name=é")
        #expect(refused == 400)
        utf8.close()
        // The gateway is still there.
        let next = try await TestClient.connect(rig.url + "?name=ada")
        try await next.close()
        try await rig.stop()
    }

    // `DELETE /v2/apis` trapped on parts[1]; `?nextToken=-1` trapped in dropFirst(-1).
    @Test(arguments: [
        ("DELETE", "/v2/apis"), ("PATCH", "/v2/apis"), ("PUT", "/v2/apis"), ("GET", "/v2/apis?nextToken=-1"),
        ("GET", "/v2/apis?nextToken=x"), ("GET", "/v2/apis?maxResults=0"), ("GET", "/v2/apis?maxResults=501"),
        ("DELETE", "/v2/apis/abc123/routes"), ("PATCH", "/v2/domainnames"), ("GET", "/v2/apis/abc123/routes/%zz"),
    ])
    func malformedControlPlaneCallsGet400(method: String, target: String) async throws {
        let rig = try await Rig.start()
        let answer = try await SignedRequests(port: rig.gateway.port!).send(method, target)
        #expect(answer.status == 400, "\(method) \(target): \(answer.body)")
        #expect((try? JSONDecoder().decode(APIGatewayV2.ErrorBody.self, from: Data(answer.body.utf8)))?.message != nil)
        try await rig.stop()
    }

    @Test(arguments: [#"[1,2]"#, #"{"name": 5, "protocolType": "WEBSOCKET"}"#, "not json", #"{"name":"#])
    func badBodiesGet400(body: String) async throws {
        let rig = try await Rig.start()
        let answer = try await SignedRequests(port: rig.gateway.port!).send("POST", "/v2/apis", body: Array(body.utf8))
        #expect(answer.status == 400, "\(body): \(answer.body)")
        try await rig.stop()
    }

    // Parallel calls each copied the API and wrote it back: created routes vanished.
    @Test func parallelCreationsAreAllKept() async throws {
        let rig = try await Rig.start(routes: [])
        let client = ControlPlaneClient(
            httpClient: .shared, credentials: StaticCredentialProvider(LocalGatewayConfiguration.developmentCredential),
            region: "us-east-1", endpoint: "http://127.0.0.1:\(rig.gateway.port!)")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask { _ = try await client.createRoute(rig.apiId, .init(routeKey: "route\(index)")) }
            }
            try await group.waitForAll()
        }
        #expect(try await client.getRoutes(rig.apiId).count == 40)
        #expect(rig.gateway.api(rig.apiId)?.routes.count == 40)
        try await rig.stop()
    }

    // Posts to a client that does not read were all answered 200 while the gateway grew.
    @Test func aClientThatDoesNotReadFillsItsBufferAndPostsGet429() async throws {
        let rig = try await Rig.start(configure: { $0.outboundBufferLimit = 256 * 1024 })
        let (client, status) = try await upgrade(rig, "/abc123/dev")
        #expect(status == 101)
        try await client.stopReading()
        let id = try #require(rig.requests(to: "/ws/connect").last?.header("connectionId"))
        let management = rig.managementClient()
        let payload = ByteBuffer(repeating: 0x61, count: 120_000)
        var limited: AWSError?
        for _ in 0..<400 {
            do {
                try await management.post(payload, to: id, endpoint: rig.endpoint, region: "us-east-1")
            } catch let error as AWSError {
                limited = error
                break
            }
        }
        #expect(limited?.code == .limitExceeded, "no 429 after 400 posts of 120 KB (48 MB)")
        let queued = try #require(rig.gateway.connections.get(id)?.outbox.queuedBytes)
        #expect(queued <= 256 * 1024)
        // Pongs obey the same bound: 4,000 pings of 125 bytes (500 KB of pongs) add nothing past it,
        // counted where the bytes wait (the channel), so a pong written around the outbox shows too.
        let ping = RawClient.frame(opcode: 0x9, payload: Array(repeating: 0x70, count: 125))
        for _ in 0..<40 { try await client.send(Array([[UInt8]](repeating: ping, count: 100).joined())) }
        // A message after the pings: once it reaches the backend, every ping has been read.
        try await client.send(RawClient.frame(opcode: 0x1, payload: Array("after the pings".utf8)))
        #expect(await eventually { rig.requests(to: "/ws/default").contains { $0.body == Array("after the pings".utf8) } })
        let channel = try #require(rig.gateway.connections.get(id)?.channel)
        let buffered = try await channel.getOption(.bufferedWritableBytes).get()
        #expect(buffered <= 256 * 1024 + 14, "\(buffered) bytes wait for a client whose limit is 256 KB")
        client.close()
        try await rig.stop()
    }

    // A client that went away while `$connect` ran never got its `$disconnect`.
    @Test func aClientLeavingDuringConnectStillGetsItsDisconnect() async throws {
        let gate = Gate()
        let rig = try await Rig.start(backend: { request in
            if request.uri.hasPrefix("/ws/connect") { await gate.wait() }
            return .init(status: 200)
        })
        for _ in 0..<5 {
            let client = try await RawClient.connect(port: rig.gateway.port!)
            try await client.send(RawClient.upgrade("/abc123/dev"))
            #expect(await eventually { rig.requests(to: "/ws/connect").count > rig.requests(to: "/ws/disconnect").count })
            client.close()
            #expect(await eventually { client.isClosed })
            await gate.open()
            let connected = try #require(rig.requests(to: "/ws/connect").last?.header("connectionId"))
            #expect(await eventually { rig.requests(to: "/ws/disconnect").last?.header("connectionId") == connected })
            await gate.close()
        }
        #expect(rig.requests(to: "/ws/disconnect").count == 5)
        #expect(rig.gateway.connectionCount == 0)
        try await rig.stop()
    }

    // Every message started a Task of its own, without bound.
    @Test func messagesOfOneConnectionRunAtMostSixteenAtOnce() async throws {
        let gate = Gate()
        let rig = try await Rig.start(backend: { request in
            if request.uri.hasPrefix("/ws/default") { await gate.wait() }
            return .init(status: 200)
        })
        let client = try await TestClient.connect(rig.url)
        for index in 0..<40 { try await client.send(#"{"n":\#(index)}"#) }
        #expect(await eventually { rig.requests(to: "/ws/default").count == 16 })
        // The next messages wait unread until one finishes: still 16 after a while.
        try await Task.sleep(for: .milliseconds(200))
        #expect(rig.requests(to: "/ws/default").count == 16)
        await gate.open()
        #expect(await eventually { rig.requests(to: "/ws/default").count == 40 })
        try await client.close()
        try await rig.stop()
    }

    // GetConnection interpolated the identity; a user agent with `\` was invalid JSON.
    @Test func getConnectionEncodesTheIdentity() async throws {
        let rig = try await Rig.start()
        let agent = #"agent "quoted" \ back\slash"#
        let (client, status) = try await upgrade(rig, "/abc123/dev", headers: [("User-Agent", agent)])
        #expect(status == 101)
        let id = try #require(rig.requests(to: "/ws/connect").last?.header("connectionId"))
        let info = try await rig.managementClient().connection(id, endpoint: rig.endpoint, region: "us-east-1")
        #expect(info.userAgent == agent)
        client.close()
        try await rig.stop()
    }

    // Error bodies escaped only `"`.
    @Test func errorBodiesAreJSONWhateverTheyQuote() async throws {
        let rig = try await Rig.start()
        let answer = try await SignedRequests(port: rig.gateway.port!).send(
            "POST", "/abc123/dev/@connections/a%5Cb%22c", service: "execute-api")
        #expect(answer.status == 400)
        let body = try JSONDecoder().decode(APIGatewayV2.ErrorBody.self, from: Data(answer.body.utf8))
        #expect(body.message == #"Invalid connectionId: a%5Cb%22c"#)
        try await rig.stop()
    }

    // A body over 1 MiB was truncated, then failed its signature (403).
    @Test func aBodyOverTheLimitIs413() async throws {
        let rig = try await Rig.start()
        let answer = try await SignedRequests(port: rig.gateway.port!).send(
            "POST", "/v2/apis", body: Array(repeating: 0x20, count: 2 << 20))
        #expect(answer.status == 413)
        try await rig.stop()
    }

    // MARK: Signatures

    // No skew window: a request signed in 2001 was accepted.
    @Test func signaturesOutsideFifteenMinutesAreExpired() async throws {
        let rig = try await Rig.start()
        let requests = SignedRequests(port: rig.gateway.port!)
        let old = try await requests.send("GET", "/v2/apis", date: Date(timeIntervalSince1970: 1_000_000_000))
        #expect(old.status == 403 && old.body.contains("Signature expired"), "\(old.body)")
        let ahead = try await requests.send("GET", "/v2/apis", date: Date() + 16 * 60)
        #expect(ahead.status == 403)
        let slightlyOff = try await requests.send("GET", "/v2/apis", date: Date() - 10 * 60)
        #expect(slightlyOff.status == 200)
        try await rig.stop()
    }

    // The scope's region was never compared.
    @Test func theScopeMustNameTheGatewaysRegion() async throws {
        let rig = try await Rig.start()
        let answer = try await SignedRequests(port: rig.gateway.port!).send("GET", "/v2/apis", scopeRegion: "eu-west-1")
        #expect(answer.status == 403 && answer.body.contains("region"), "\(answer.body)")
        try await rig.stop()
    }

    @Test func signatureComparisonAndScopeRules() {
        #expect(SigV4Verifier.constantTimeEquals("abc", "abc"))
        #expect(!SigV4Verifier.constantTimeEquals("abc", "abd"))
        #expect(!SigV4Verifier.constantTimeEquals("abc", "abcd"))
        let verifier = SigV4Verifier(credentials: [LocalGatewayConfiguration.developmentCredential], region: "us-east-1")
        var headers = HTTPHeadersBuilder.signed(region: "us-east-1")
        headers.replaceOrAdd(
            name: "Authorization",
            value: headers.first(name: "Authorization")!.replacingOccurrences(of: "aws4_request", with: "aws5_request"))
        let refusal = verifier.problem(method: "GET", uri: "/v2/apis", headers: headers, body: [UInt8](), service: "apigateway")
        #expect(refusal?.message.contains("aws4_request") == true)
        let good = HTTPHeadersBuilder.signed(region: "us-east-1")
        #expect(verifier.problem(method: "GET", uri: "/v2/apis", headers: good, body: [UInt8](), service: "apigateway") == nil)
        #expect(verifier.problem(method: "GET", uri: "/v2/apis", headers: good, body: [UInt8](), service: "execute-api") != nil)
    }

    // MARK: State file

    // The state file was written in place with mode 0644; one that did not decode was ignored,
    // then overwritten by the next write.
    @Test func theStateFileIsPrivateAndAnUnreadableOneStopsTheStart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apigw-state-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("state.json").path
        let gateway = LocalGateway(configuration: LocalGatewayConfiguration(port: 0, stateFile: file))
        try await gateway.start()
        let answer = try await SignedRequests(port: gateway.port!).send(
            "POST", "/v2/apis",
            body: Array(#"{"name":"a","protocolType":"WEBSOCKET","routeSelectionExpression":"$request.body.action"}"#.utf8))
        #expect(answer.status == 201)
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try await gateway.stop()

        let corrupt = Data(#"{"apis": [{"apiId": 1}]}"#.utf8)
        try corrupt.write(to: URL(fileURLWithPath: file))
        let second = LocalGateway(configuration: LocalGatewayConfiguration(port: 0, stateFile: file))
        let error = await #expect(throws: LocalGatewayError.self) { try await second.start() }
        #expect(error?.description.contains(file) == true && error?.description.contains("apis") == true, "\(String(describing: error))")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == corrupt)
        try await second.stop()
    }

    // `apigateway-local --state-file bad.json` trapped in AsyncHTTPClient's deinit (the gateway's
    // client was never shut down when run() failed) instead of printing why.
    @Test func aRunThatCannotStartSaysWhyAndDoesNotTrap() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("apigw-bad-\(UUID().uuidString).json")
        try Data(#"{"apis": ["#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            let gateway = LocalGateway(configuration: LocalGatewayConfiguration(port: 0, stateFile: file.path))
            await #expect(throws: LocalGatewayError.self) { try await gateway.run() }
            let started = LocalGateway(configuration: LocalGatewayConfiguration(port: 0, stateFile: file.path))
            await #expect(throws: LocalGatewayError.self) { try await started.start() }
            try await started.stop()  // after a failed start, stop is still safe
        }
    }

    // A failed save was swallowed by `try?`: the caller was told its change was kept.
    @Test func aFailedSaveIsAnswered500() async throws {
        let blocker = FileManager.default.temporaryDirectory.appendingPathComponent("apigw-blocker-\(UUID().uuidString)")
        try Data("a file, not a directory".utf8).write(to: blocker)
        defer { try? FileManager.default.removeItem(at: blocker) }
        let gateway = LocalGateway(configuration: LocalGatewayConfiguration(port: 0, stateFile: blocker.path + "/state.json"))
        try await gateway.start()
        let answer = try await SignedRequests(port: gateway.port!).send(
            "POST", "/v2/apis",
            body: Array(#"{"name":"a","protocolType":"WEBSOCKET","routeSelectionExpression":"$request.body.action"}"#.utf8))
        #expect(answer.status == 500 && answer.body.contains("could not be saved"), "\(answer.body)")
        try await gateway.stop()
    }

    // MARK: Limits

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
        let rig = try await Rig.start(configure: { $0.handshakeTimeout = .milliseconds(300) })
        let silent = try await RawClient.connect(port: rig.gateway.port!)
        #expect(await eventually(timeout: .seconds(3)) { silent.isClosed })
        let client = try await TestClient.connect(rig.url)
        try await Task.sleep(for: .milliseconds(800))  // past the handshake timeout, twice over
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

    // MARK: Frames

    @Test(arguments: [
        ("unmasked", RawClient.frame(opcode: 0x1, masked: false, payload: Array("hi".utf8)), 1002),
        ("reserved bit", RawClient.frame(opcode: 0x1, rsv: 0x4, payload: Array("hi".utf8)), 1002),
        ("reserved opcode", RawClient.frame(opcode: 0x3, payload: []), 1002),
        ("lone continuation", RawClient.frame(opcode: 0x0, payload: Array("x".utf8)), 1002),
        ("invalid UTF-8", RawClient.frame(opcode: 0x1, payload: [0xC3, 0x28]), 1007),
        ("long ping", RawClient.frame(opcode: 0x9, payload: Array(repeating: 1, count: 126)), 1002),
        ("fragmented ping", RawClient.frame(opcode: 0x9, fin: false, payload: [1]), 1002),
        ("binary", RawClient.frame(opcode: 0x2, payload: [1, 2, 3]), 1003),
        ("frame over 32 KB", RawClient.frame(opcode: 0x1, payload: Array(repeating: 0x61, count: 32_769)), 1009),
    ])
    func framesThatBreakTheRulesCloseWithTheirCode(name: String, frame: [UInt8], code: Int) async throws {
        let rig = try await Rig.start()
        let (client, status) = try await upgrade(rig, "/abc123/dev")
        #expect(status == 101)
        try await client.send(frame)
        #expect(await client.closeCode() == code, "\(name)")
        #expect(await eventually { rig.requests(to: "/ws/disconnect").first?.header("X-Disconnect-Code") == "\(code)" }, "\(name)")
        client.close()
        try await rig.stop()
    }

    // MARK: Lifecycle

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

/// A gate tests open and close: `wait()` returns once it is open.
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }

    func close() { isOpen = false }
}

/// Headers of a GET /v2/apis signed now with the development key.
enum HTTPHeadersBuilder {
    static func signed(region: String) -> HTTPHeaders {
        var request = SigV4Request(method: "GET", host: "127.0.0.1", path: "/v2/apis")
        SigV4Signer(service: "apigateway", region: region).sign(&request, credential: LocalGatewayConfiguration.developmentCredential)
        var headers = HTTPHeaders(request.headers.map { ($0.name, $0.value) })
        if headers.first(name: "Host") == nil { headers.add(name: "Host", value: "127.0.0.1") }
        return headers
    }
}

/// Where the command line's signing keys come from.
@Suite struct LocalGatewayCredentialTests {
    @Test func withoutAKeyTheDevelopmentKeyAndTheShellsKeysAreAccepted() throws {
        let keys = try LocalGatewayConfiguration.credentials(
            accessKeyID: nil, secretAccessKey: nil, secretFile: nil,
            environment: ["AWS_ACCESS_KEY_ID": "AKIDSHELL", "AWS_SECRET_ACCESS_KEY": "shell-secret"])
        #expect(keys.map(\.accessKeyID) == ["AKIDLOCALDEVELOPMENT", "AKIDSHELL"])
        #expect(keys.last?.secretAccessKey == "shell-secret")
        let alone = try LocalGatewayConfiguration.credentials(accessKeyID: nil, secretAccessKey: nil, secretFile: nil, environment: [:])
        #expect(alone == [LocalGatewayConfiguration.developmentCredential])
    }

    @Test func aSecretComesFromTheFlagTheFileOrTheEnvironment() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("apigw-secret-\(UUID().uuidString)")
        try Data("  from-file  \nignored\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let fromFile = try LocalGatewayConfiguration.credentials(
            accessKeyID: "AKID", secretAccessKey: nil, secretFile: file.path, environment: [:])
        #expect(fromFile.first?.secretAccessKey == "from-file")
        let fromEnvironment = try LocalGatewayConfiguration.credentials(
            accessKeyID: "AKID", secretAccessKey: nil, secretFile: nil, environment: ["APIGW_LOCAL_SECRET_ACCESS_KEY": "from-env"])
        #expect(fromEnvironment.first?.secretAccessKey == "from-env")
        let fromFlag = try LocalGatewayConfiguration.credentials(
            accessKeyID: "AKID", secretAccessKey: "flag", secretFile: file.path, environment: [:])
        #expect(fromFlag.first?.secretAccessKey == "flag")
        #expect(throws: LocalGatewayError.self) {
            try LocalGatewayConfiguration.credentials(accessKeyID: "AKID", secretAccessKey: nil, secretFile: nil, environment: [:])
        }
        #expect(throws: LocalGatewayError.self) {
            try LocalGatewayConfiguration.credentials(
                accessKeyID: "AKID", secretAccessKey: nil, secretFile: "/nonexistent/secret", environment: [:])
        }
    }
}
