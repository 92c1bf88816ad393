import APIGatewayAWS
import Foundation
import NIOCore
import PeerSupport
import Synchronization
import Testing

@testable import APIGatewayLocal

/// The guards against generated input, seeded (`APIGW_FUZZ_SEED`) and bounded: authorizer answers
/// of every shape, and IAM signatures and API keys mutated byte by byte. Every answer is one AWS
/// gives (500 only for an authorizer answer that is no authorizer answer, as AWS's
/// `AuthorizerConfigurationException`), every accepted connect gets its `$disconnect`, and the
/// gateway still serves after.
@Suite(.serialized) struct GuardFuzzTests {
    static let seed = UInt64(ProcessInfo.processInfo.environment["APIGW_FUZZ_SEED"] ?? "") ?? 0x5EED_2026

    /// One generated authorizer answer and the status AWS gives the client for it.
    struct Answer: Sendable {
        let response: LoopbackServer.Response
        let expected: Set<Int>
    }

    static func answers(_ count: Int, methodArn: String) -> [Answer] {
        var random = SeededGenerator(seed: seed &+ 10)
        func policy(_ effect: String, _ resource: String) -> String {
            #"{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"\#(effect)","Resource":"\#(resource)"}]}"#
        }
        return (0..<count).map { _ in
            let value = random.pick([#""a\r\nX-Injected: 1""#, "42", "true", "null", #""\u0000""#, #""""#, "1.5e300"])
            switch Int.random(in: 0..<12, using: &random) {
            case 0: return Answer(response: .init(body: #"{"principalId":"u","policyDocument":\#(policy("Allow", methodArn)),"context":{"k":\#(value)}}"#), expected: [101])
            case 1: return Answer(response: .init(body: #"{"principalId":"u","policyDocument":\#(policy("Allow", "arn:aws:execute-api:*:*:*/*/*"))}"#), expected: [101])
            case 2: return Answer(response: .init(body: #"{"principalId":"u","policyDocument":\#(policy("Deny", methodArn))}"#), expected: [403])
            case 3: return Answer(response: .init(body: #"{"principalId":"u","policyDocument":\#(policy("Allow", "arn:aws:execute-api:us-east-1:0:other/dev/$connect"))}"#), expected: [403])
            case 4: return Answer(response: .init(status: 401, body: #"{"message":"Unauthorized"}"#), expected: [401])
            case 5: return Answer(response: .init(body: String(decoding: random.bytes(Int.random(in: 0...300, using: &random)), as: UTF8.self)), expected: [500])
            case 6:
                let broken = random.pick([
                    #"{"principalId":7,"policyDocument":\#(policy("Allow", methodArn))}"#,
                    #"{"principalId":"u","policyDocument":\#(policy("Allow", methodArn)),"context":{"k":{"nested":1}}}"#,
                    #"{"principalId":"u","policyDocument":{"Statement":{}}}"#, #"{"principalId":"u"}"#, "[]", "null",
                    #"{"principalId":"u","policyDocument":\#(policy("allow", methodArn))}"#,
                ])
                return Answer(response: .init(body: broken), expected: [500])
            case 7:
                let padding = String(repeating: "x", count: 9000)
                return Answer(response: .init(body: #"{"principalId":"u","policyDocument":\#(policy("Allow", methodArn)),"context":{"k":"\#(padding)"}}"#), expected: [500])
            case 8: return Answer(response: .init(status: random.pick([404, 500, 502, 301])), expected: [500])
            case 9: return Answer(response: .resetConnection, expected: [500])
            case 10: return Answer(response: .init(body: #"{"principalId":"u","policyDocument":\#(policy("Allow", methodArn.dropLast(8) + "$conne?t"))}"#), expected: [101])
            default: return Answer(response: .init(body: #"{"principalId":"u","policyDocument":{"Statement":[{"Action":["s3:*"],"Effect":"Allow","Resource":"*"}]}}"#), expected: [403])
            }
        }
    }

    @Test func generatedAuthorizerAnswers() async throws {
        let rounds = 300
        let methodArn = "arn:aws:execute-api:us-east-1:000000000000:abc123/dev/$connect"
        let answers = Self.answers(rounds, methodArn: methodArn)
        // The round is the event's `token` query parameter.
        let authorizer = try await LoopbackServer { request in
            let event = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]
            let token = (event?["queryStringParameters"] as? [String: String])?["token"] ?? ""
            return Int(token).map { answers[$0 % answers.count].response } ?? .init(status: 400)
        }
        let rig = try await Rig.start()
        var api = try #require(rig.gateway.currentAPIs.first)
        api.authorizers = ["fz": LocalAuthorizer(authorizerId: "fz", name: "fuzz", authorizerUri: authorizer.url + "/auth", identitySource: ["route.request.querystring.token"])]
        let connectID = try #require(api.route("$connect")?.routeId)
        api.routes[connectID]?.authorizationType = "CUSTOM"
        api.routes[connectID]?.authorizerId = "fz"
        // The context's value, CR and LF included, mapped into a header of `$connect`.
        let integrationID = try #require(api.integration(for: api.route("$connect")!)?.integrationId)
        api.integrations[integrationID]?.requestParameters["integration.request.header.X-K"] = "context.authorizer.k"
        try rig.gateway.register(api)
        let before = LocalGatewayFuzzTests.residentBytes()
        var statuses: [Int: Int] = [:]
        for round in 0..<rounds {
            let status = await GatewayGuardsTests.handshake(rig.gateway.port!, "/abc123/dev?token=\(round)")
            let expected = answers[round].expected
            #expect(status.map(expected.contains) == true, "round \(round): \(String(describing: status)), expected \(expected)")
            statuses[status ?? 0, default: 0] += 1
        }
        print("authorizer answers → statuses (seed \(Self.seed)):", statuses.sorted { $0.key < $1.key })
        let connects = rig.backend.requests.filter { splitURI($0.uri).path == "/ws/connect" }
        #expect(connects.contains { $0.header("X-K") != nil }, "the context was mapped")
        #expect(connects.allSatisfy { $0.header("X-Injected") == nil }, "a value cannot add a header")
        await LocalGatewayFuzzTests().expectEveryConnectDisconnected(rig)
        #expect(LocalGatewayFuzzTests.residentBytes() - before < 150 << 20)
        try await rig.stop()
        try await authorizer.close()
    }

    @Test func generatedSignaturesAndKeys() async throws {
        var random = SeededGenerator(seed: Self.seed &+ 11)
        let rig = try await Rig.start()
        var api = try #require(rig.gateway.currentAPIs.first)
        let connectID = try #require(api.route("$connect")?.routeId)
        api.routes[connectID]?.authorizationType = "AWS_IAM"
        api.routes[connectID]?.apiKeyRequired = true
        try rig.gateway.register(api)
        let key = LocalAPIKey(id: "key1", value: "fuzz-key-0123456789abcdef", name: "fuzz")
        try rig.gateway.state.update { held in
            held.apiKeys[key.id] = key
            held.usagePlans["plan1"] = LocalUsagePlan(
                id: "plan1", name: "fuzz", apiStages: [.init(apiId: "abc123", stage: "dev")], quota: .init(limit: 1_000_000, period: "DAY"),
                keyIds: [key.id])
        }
        let port = rig.gateway.port!
        let signer = SigV4Signer(service: "execute-api", region: "us-east-1")
        var statuses: [Int: Int] = [:]
        for round in 0..<300 {
            let query = signer.presignedQuery(
                SigV4Request(method: "GET", host: "127.0.0.1:\(port)", path: "/abc123/dev", query: ""),
                credential: LocalGatewayConfiguration.developmentCredential, expires: 300)
            var target = "/abc123/dev?" + query
            var presented = key.value
            var valid = true
            switch Int.random(in: 0..<8, using: &random) {
            case 0: break
            case 1:  // a byte of the query changed
                var bytes = Array(query.utf8)
                let index = Int.random(in: 0..<bytes.count, using: &random)
                let replacement = random.pick(Array("aZ0%&=+/._-".utf8))
                valid = bytes[index] == replacement
                bytes[index] = replacement
                target = "/abc123/dev?" + String(decoding: bytes, as: UTF8.self)
            case 2:  // a parameter dropped
                let items = query.split(separator: "&")
                let dropped = random.pick(items)
                target = "/abc123/dev?" + items.filter { $0 != dropped }.joined(separator: "&")
                valid = false
            case 3:  // a wrong, empty or garbage key
                presented = random.pick(["", "fuzz-key-0123456789abcdeX", random.text(Int.random(in: 1...200, using: &random), from: "ab\"\\ %")])
                valid = false
            case 4:  // garbage X-Amz-* values
                target = "/abc123/dev?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=\(random.text(30, from: "A/%z"))&X-Amz-Date=\(random.text(16, from: "0T9Z"))&X-Amz-Expires=\(random.pick(["-1", "0", "604801", "x", "99999999999999999999"]))&X-Amz-SignedHeaders=host&X-Amz-Signature=\(random.text(64, from: "0af"))"
                valid = false
            case 5:  // unsigned
                target = "/abc123/dev"
                valid = false
            case 6:  // signed for another path
                target = "/abc123/prod?" + query
                valid = false
            default:  // an extra parameter after signing
                target += "&channel=" + random.text(5, from: "abc")
                valid = false
            }
            let status = await GatewayGuardsTests.handshake(port, target, headers: presented.isEmpty ? [] : [("x-api-key", presented)])
            statuses[status ?? 0, default: 0] += 1
            let expected: Set<Int> = valid ? [101] : [403, 400, 414]
            #expect(status.map(expected.contains) == true, "round \(round): \(String(describing: status)) for \(target)")
        }
        print("signatures and keys → statuses (seed \(Self.seed)):", statuses.sorted { $0.key < $1.key })
        await LocalGatewayFuzzTests().expectEveryConnectDisconnected(rig)
        try await rig.stop()
    }
}
