import APIGatewayAWS
import Foundation
import NIOCore
import PeerSupport
import Testing

@testable import APIGatewayLocal

/// The gateway against generated input: handshakes, control-plane calls, frame sequences,
/// `@connections` calls, aborted handshakes and slow readers, seeded (`APIGW_FUZZ_SEED`) and
/// bounded in count and time. After each run the process is up, every answer was a status AWS
/// would give (never a dropped connection without one, never a 5xx), every accepted connection
/// got its `$disconnect`, and memory stayed under a bound.
@Suite(.serialized) struct LocalGatewayFuzzTests {
    static let seed = UInt64(ProcessInfo.processInfo.environment["APIGW_FUZZ_SEED"] ?? "") ?? 0x5EED_2026

    /// Bytes of resident memory, from /proc.
    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    /// The gateway still takes a well-formed connection and a signed call.
    func expectServing(_ rig: Rig) async throws {
        let client = try await TestClient.connect(rig.url)
        try await client.close()
        let answer = try await SignedRequests(port: rig.gateway.port!).send("GET", "/v2/apis")
        #expect(answer.status == 200)
    }

    /// Waits until every connection the backend accepted has had its `$disconnect`.
    func expectEveryConnectDisconnected(_ rig: Rig) async {
        let balanced = await eventually(timeout: .seconds(20)) {
            rig.gateway.connectionCount == 0
                && Set(rig.requests(to: "/ws/connect").compactMap { $0.header("connectionId") })
                    == Set(rig.requests(to: "/ws/disconnect").compactMap { $0.header("connectionId") })
        }
        #expect(balanced, "connects \(rig.requests(to: "/ws/connect").count), disconnects \(rig.requests(to: "/ws/disconnect").count)")
    }

    @Test func generatedHandshakes() async throws {
        var random = SeededGenerator(seed: Self.seed)
        let rig = try await Rig.start()
        let before = Self.residentBytes()
        let queryAlphabet = "abcXYZ019=&%{}|`\\\"<>^[]~!$'()*+,;:@/?#."
        var statuses: [Int: Int] = [:]
        for round in 0..<1000 {
            let path = random.pick([
                "/abc123/dev", "/abc123/dev/", "/abc123/dev/extra", "/abc123", "/unknown/dev", "/", "/abc123/prod", "//abc123//dev",
                "/abc123/%64ev", "/abc123/dev/..", "/v2/apis", "/abc123/dev/@connections/x", "ws://127.0.0.1/abc123/dev",
                "/" + random.text(Int.random(in: 0...300, using: &random), from: "ab/%."),
            ])
            let query = random.chance(60) ? "?" + random.text(Int.random(in: 0...200, using: &random), from: queryAlphabet) : ""
            var headers: [(String, String)] = []
            for _ in 0..<Int.random(in: 0...6, using: &random) {
                headers.append(
                    random.pick([
                        ("Origin", "https://" + random.text(12, from: "abc.")), ("Cookie", random.text(40, from: "a=;b%\" ")),
                        ("Sec-WebSocket-Protocol", random.text(10, from: "ab, ")), ("User-Agent", random.text(30, from: "ab\"\\/ ")),
                        ("X-" + random.text(5, from: "abc"), random.text(Int.random(in: 0...3000, using: &random), from: "xyz ")),
                        ("Sec-WebSocket-Version", random.pick(["8", "13", "", "x"])), ("Content-Length", random.pick(["0", "5", "-1"])),
                    ]))
            }
            var request = RawClient.upgrade(path + query, headers: headers)
            if random.chance(10) { request = request.replacingOccurrences(of: "GET ", with: random.pick(["POST ", "HEAD ", "DELETE "])) }
            if random.chance(5) { request = request.replacingOccurrences(of: "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", with: "") }
            if headers.contains(where: { $0 == ("Content-Length", "5") }) { request += "hello" }  // the body it declares
            let client = try await RawClient.connect(port: rig.gateway.port!)
            try? await client.send(request)  // the gateway may answer and close before all of it is written
            let status = await client.status()
            #expect(status != nil, "round \(round): no status for \(request.prefix(200))")
            if let status {
                statuses[status, default: 0] += 1
                #expect(
                    [101, 400, 403, 404, 413, 414, 426, 429].contains(status), "round \(round): \(status) for \(request.prefix(300))")
                if status == 101, random.chance(50) {
                    try? await client.send(RawClient.frame(opcode: 0x8, payload: [0x03, 0xE8]))
                }
            }
            client.close()
        }
        print("handshake statuses (seed \(Self.seed)):", statuses.sorted { $0.key < $1.key })
        await expectEveryConnectDisconnected(rig)
        try await expectServing(rig)
        #expect(Self.residentBytes() - before < 150 << 20)
        try await rig.stop()
    }

    @Test func generatedControlPlaneCalls() async throws {
        var random = SeededGenerator(seed: Self.seed &+ 1)
        let rig = try await Rig.start()
        let requests = SignedRequests(port: rig.gateway.port!)
        let before = Self.residentBytes()
        var statuses: [Int: Int] = [:]
        let segments = [
            "apis", "abc123", "integrations", "routes", "stages", "deployments", "routeresponses", "domainnames", "apimappings",
            "tags", "int0", "route0", "dev", "", "%zz", "..", "%2F", "arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fabc123",
            "chat.example.com", String(repeating: "x", count: 300),
        ]
        let bodies = [
            "", "{}", "[]", "null", "1", "\"x\"", "{\"name\":", "{\"name\": 5}",
            #"{"name":"n","protocolType":"WEBSOCKET","routeSelectionExpression":"$request.body.action"}"#,
            #"{"routeKey":"k"}"#, #"{"routeKey":""}"#,
            #"{"integrationType":"HTTP_PROXY","integrationUri":"http://127.0.0.1:1/x","timeoutInMillis":99999999}"#,
            #"{"stageName":"s","stageVariables":{"a":1}}"#, #"{"domainName":"a.example.com"}"#, #"{"apiId":"abc123","stage":"dev"}"#,
            #"{"tags":{"a":"b"}}"#, #"{"tags":"x"}"#, String(repeating: "[", count: 5000), "{\"a\":\"\u{0}\"}",
        ]
        for round in 0..<1000 {
            let depth = Int.random(in: 0...6, using: &random)
            let path = "/v2/" + (0..<depth).map { _ in random.pick(segments) }.joined(separator: "/")
            var query = ""
            if random.chance(30) {
                query =
                    "?" + random.pick(["maxResults", "nextToken", "tagKeys", "x"]) + "="
                    + random.pick(["-1", "0", "1", "501", "abc", "99999999999999999999", "%zz", "2"])
            }
            let method = random.pick(["GET", "POST", "PATCH", "DELETE", "PUT"])
            var body = Array(random.pick(bodies).utf8)
            if random.chance(5) { body = random.bytes(Int.random(in: 1...2000, using: &random)) }
            let answer = try await requests.send(method, path + query, body: body)
            #expect(answer.status != nil, "round \(round): no status for \(method) \(path + query)")
            if let status = answer.status {
                statuses[status, default: 0] += 1
                #expect(
                    [200, 201, 204, 400, 404, 409, 413].contains(status),
                    "round \(round): \(status) for \(method) \(path + query): \(answer.body)")
            }
        }
        print("control-plane statuses (seed \(Self.seed)):", statuses.sorted { $0.key < $1.key })
        try await expectServing(rig)
        #expect(Self.residentBytes() - before < 150 << 20)
        try await rig.stop()
    }

    @Test func generatedFrameSequences() async throws {
        var random = SeededGenerator(seed: Self.seed &+ 2)
        let rig = try await Rig.start()
        let before = Self.residentBytes()
        var codes: [Int: Int] = [:]
        for round in 0..<1000 {
            let client = try await RawClient.connect(port: rig.gateway.port!)
            try await client.send(RawClient.upgrade("/abc123/dev"))
            guard await client.status() == 101 else {
                Issue.record("round \(round): the handshake failed")
                continue
            }
            var frames: [[UInt8]] = []
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                var payload: [UInt8]
                switch Int.random(in: 0..<10, using: &random) {
                case 0: payload = [0xC3, 0x28, 0xFF]  // not UTF-8
                case 1: payload = random.bytes(Int.random(in: 126...300, using: &random))
                case 2: payload = Array(repeating: 0x61, count: Int.random(in: 30_000...40_000, using: &random))
                case 3: payload = Array(#"{"action":"sendmessage"}"#.utf8)
                default: payload = Array(random.text(Int.random(in: 0...100, using: &random), from: "{}\":ab ").utf8)
                }
                let opcode: UInt8 =
                    random.chance(70) ? random.pick([0x0, 0x1, 0x2, 0x8, 0x9, 0xA]) : UInt8.random(in: 0...15, using: &random)
                frames.append(
                    RawClient.frame(
                        opcode: opcode, fin: random.chance(80), rsv: random.chance(5) ? UInt8.random(in: 1...7, using: &random) : 0,
                        masked: random.chance(95), payload: payload))
            }
            if random.chance(10) {  // a ping flood
                frames += (0..<100).map { _ in RawClient.frame(opcode: 0x9, payload: Array("p".utf8)) }
            }
            frames.append(RawClient.frame(opcode: 0x8, payload: [0x03, 0xE8]))
            try? await client.send(frames.flatMap { $0 })
            let code = await client.closeCode()
            #expect(code != nil, "round \(round): the connection ended without a close frame")
            if let code {
                codes[code, default: 0] += 1
                #expect(
                    [1000, 1002, 1003, 1007, 1009].contains(code),
                    "round \(round): close \(code); sent \(frames.map { ($0[0], $0.count) }), got \(RawClient.serverFrames(in: client.bytes).map { ($0.opcode, $0.payload) })"
                )
            }
            client.close()
        }
        print("close codes (seed \(Self.seed)):", codes.sorted { $0.key < $1.key })
        await expectEveryConnectDisconnected(rig)
        try await expectServing(rig)
        #expect(Self.residentBytes() - before < 150 << 20)
        try await rig.stop()
    }

    @Test func generatedConnectionsCalls() async throws {
        var random = SeededGenerator(seed: Self.seed &+ 3)
        let rig = try await Rig.start()
        let live = try await TestClient.connect(rig.url)
        let id = try #require(rig.requests(to: "/ws/connect").last?.header("connectionId"))
        let requests = SignedRequests(port: rig.gateway.port!)
        var statuses: [Int: Int] = [:]
        for round in 0..<500 {
            let target = random.pick([
                id, id.replacingOccurrences(of: "=", with: "%3D"), "AAAAAAAAAAAAAAA=", "", "a/b", "%zz", "bad!id", "%00",
                String(repeating: "A", count: 200), "..", "a%2Fb", random.text(20, from: "aB0=-_%+!"),
            ])
            let prefix = random.pick([
                "/abc123/dev/@connections/", "/abc123/dev/%40connections/", "/abc123/nope/@connections/", "/zz/dev/@connections/",
            ])
            let method = random.pick(["POST", "GET", "DELETE", "PUT", "PATCH"])
            let size = random.pick([0, 1, 100, 131_072, 131_073, 200_000])
            let answer = try await requests.send(
                method, prefix + target, body: method == "POST" ? Array(repeating: 0x62, count: size) : [], service: "execute-api")
            #expect(answer.status != nil, "round \(round): no status")
            if let status = answer.status {
                statuses[status, default: 0] += 1
                #expect(
                    [200, 204, 400, 403, 405, 410, 413, 429].contains(status), "round \(round): \(status) for \(method) \(prefix + target)")
            }
        }
        print("@connections statuses (seed \(Self.seed)):", statuses.sorted { $0.key < $1.key })
        try? await live.close()
        await expectEveryConnectDisconnected(rig)
        try await expectServing(rig)
        try await rig.stop()
    }

    @Test func abortedHandshakesAndSlowReaders() async throws {
        var random = SeededGenerator(seed: Self.seed &+ 4)
        let rig = try await Rig.start()
        let before = Self.residentBytes()
        // Requests cut short anywhere, and upgrades dropped right after they are sent.
        for _ in 0..<300 {
            let client = try await RawClient.connect(port: rig.gateway.port!)
            let request = Array(RawClient.upgrade("/abc123/dev").utf8)
            try await client.send(random.chance(50) ? Array(request.prefix(Int.random(in: 0..<request.count, using: &random))) : request)
            client.close()
        }
        // Ten clients that never read, and posts of 120 KB to them until each is full.
        var readers: [RawClient] = []
        for _ in 0..<10 {
            let client = try await RawClient.connect(port: rig.gateway.port!)
            try await client.send(RawClient.upgrade("/abc123/dev"))
            #expect(await client.status() == 101)
            try await client.stopReading()
            readers.append(client)
        }
        let ids = rig.requests(to: "/ws/connect").suffix(10).compactMap { $0.header("connectionId") }
        let management = rig.managementClient()
        let payload = ByteBuffer(repeating: 0x63, count: 120_000)
        var limited = 0
        for id in ids {
            for _ in 0..<400 {
                do {
                    try await management.post(payload, to: id, endpoint: rig.endpoint, region: "us-east-1")
                } catch let error as AWSError where error.code == .limitExceeded {
                    limited += 1
                    break
                }
            }
        }
        #expect(limited == 10, "every slow reader's buffer fills and is answered 429")
        #expect(Self.residentBytes() - before < 150 << 20, "memory grew by \((Self.residentBytes() - before) >> 20) MB")
        for reader in readers { reader.close() }
        await expectEveryConnectDisconnected(rig)
        try await expectServing(rig)
        try await rig.stop()
    }
}
