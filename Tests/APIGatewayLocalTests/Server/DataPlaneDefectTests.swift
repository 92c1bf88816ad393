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

/// What a client or a backend could do to take the data plane or @connections down, or make them lie; each failed (or crashed the process) on the old server.
@Suite(.serialized) struct DataPlaneDefectTests {

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
}
