import APIGatewayAWS
import APIGatewayWebSocketsTesting
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PeerSupport
import Testing

@testable import APIGatewayLocal

/// What API Gateway guards before the backend hears of a request, set up by boto3 unmodified and
/// met by real WebSocket clients: a REQUEST authorizer, AWS_IAM on `$connect`, an API key with a
/// usage plan, route throttles and the access log.
@Suite(.serialized) struct GatewayGuardsTests {
    static let functionARN = "arn:aws:lambda:us-east-1:000000000000:function:tokens"

    /// The test's authorizer: `token=alice` is allowed with a context, `token=mallory` denied,
    /// `token=boom` answers what is no authorizer answer, anything else is unauthorized.
    static func authorizer() async throws -> AuthorizerServer {
        try await AuthorizerServer { request in
            switch request.queryParameter("token") {
            case "alice": .allow(principalID: "alice", context: ["tenant": "acme"])
            case "mallory": .deny(principalID: "mallory")
            default: .unauthorized
            }
        }
    }

    @Test func boto3SetsUpEachGuardAndClientsHearAWSsAnswers() async throws {
        guard let python = await PythonPeer.require("boto3") else { return }
        let authorizer = try await Self.authorizer()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let rig = try await Rig.start(
            apiId: "unused",
            configure: {
                $0.authorizerFunctions[Self.functionARN] = authorizer.url
                $0.accessLogDestination = .file(log)
            })
        let port = rig.gateway.port!
        let credential = LocalGatewayConfiguration.developmentCredential
        let output = try await PythonPeer.run(
            python,
            [
                PythonPeer.repositoryRoot.appendingPathComponent("Tests/Peers/guards_local.py").path, "http://127.0.0.1:\(port)",
                credential.accessKeyID, credential.secretAccessKey, rig.backend.url, Self.functionARN,
            ], input: Data())
        try #require(output.status == 0, "\(String(decoding: output.stderr, as: UTF8.self))")
        let setup = try JSONSerialization.jsonObject(with: output.stdout) as! [String: String]
        let authorized = try #require(setup["authorized"]), keyed = try #require(setup["keyed"])

        // The authorizer: a missing identity source is 401 without a call; a Deny is 403.
        #expect(await Self.handshake(port, "/\(authorized)/dev") == 401)
        #expect(authorizer.calls == 0, "a missing identity source is answered before the authorizer runs")
        #expect(await Self.handshake(port, "/\(authorized)/dev?token=mallory") == 403)
        #expect(await Self.handshake(port, "/\(authorized)/dev?token=nobody") == 401)
        #expect(rig.requests(to: "/ws/connect").isEmpty, "the backend hears of no refused connect")

        // Allowed: the principal and the context reach $connect, every message and $disconnect.
        let client = try await TestClient.connect(
            "ws://127.0.0.1:\(port)/\(authorized)/dev?token=alice", headers: ["X-Tenant": "forged", "X-Caller": "forged"])
        let connect = try #require(rig.requests(to: "/ws/connect").last)
        #expect(connect.header("X-Apigw-Principal") == "alice" && connect.header("X-Tenant") == "acme")
        #expect(connect.header("X-Caller") == nil, "a mapped header with nothing to map is not the client's to fill")
        let callsAfterFirst = authorizer.calls
        try await client.send(#"{"action":"hello"}"#)
        try await client.send(#"{"action":"again"}"#)
        #expect(await eventually { rig.requests(to: "/ws/default").count == 2 })
        for message in rig.requests(to: "/ws/default") {
            #expect(message.header("X-Apigw-Principal") == "alice" && message.header("X-Tenant") == "acme")
        }
        // $default's throttle is a burst of 2: the third message is refused, the backend not called.
        try await client.send(#"{"action":"third"}"#)
        let refusal = try #require(await client.next())
        #expect(refusal.contains(#""message": "Too Many Requests""#))
        #expect(rig.requests(to: "/ws/default").count == 2)
        // The answer is cached by identity for the authorizer's TTL.
        let second = try await TestClient.connect("ws://127.0.0.1:\(port)/\(authorized)/dev?token=alice")
        #expect(authorizer.calls == callsAfterFirst, "the second connect with the same token used the cached answer")
        try await second.close()
        try await client.close()
        #expect(await eventually { rig.requests(to: "/ws/disconnect").count == 2 })
        #expect(rig.requests(to: "/ws/disconnect").allSatisfy { $0.header("X-Apigw-Principal") == "alice" })

        // IAM and the API key: unsigned, tampered or keyless connects are 403; a presigned one
        // with the key is in, and the usage plan's quota of 2 a day answers the third 429.
        let presigned = try #require(setup["presigned"]), key = try #require(setup["apiKey"])
        let tampered = String(presigned.dropLast()) + (presigned.last == "0" ? "1" : "0")
        #expect(await Self.handshake(port, "/\(keyed)/dev", headers: [("x-api-key", key)]) == 403)
        #expect(await Self.handshake(port, tampered, headers: [("x-api-key", key)]) == 403)
        #expect(await Self.handshake(port, presigned) == 403, "no API key")
        #expect(await Self.handshake(port, presigned, headers: [("x-api-key", "local-key-wrong-0000000000")]) == 403)
        let before = rig.requests(to: "/ws/connect").count
        #expect(await Self.handshake(port, presigned, headers: [("x-api-key", key)]) == 101)
        let iamConnect = try #require(rig.requests(to: "/ws/connect").dropFirst(before).first)
        #expect(iamConnect.header("X-Api-Key-Id") == setup["apiKeyId"])
        #expect(iamConnect.header("X-Caller") == "arn:aws:iam::000000000000:user/\(credential.accessKeyID)")
        #expect(await Self.handshake(port, presigned, headers: [("x-api-key", key)]) == 101)
        #expect(await Self.handshake(port, presigned, headers: [("x-api-key", key)]) == 429, "past the plan's quota")

        // One access-log line per event of the logged stage, in its format.
        try await rig.stop()
        rig.gateway.accessLog.flush()
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ").dropFirst() }
        let events = lines.map { $0.joined(separator: " ") }
        #expect(events.filter { $0.hasPrefix("CONNECT $connect 401 - UNAUTHORIZED") }.count == 2)
        #expect(events.contains("CONNECT $connect 403 - ACCESS_DENIED"))
        #expect(events.filter { $0 == "CONNECT $connect 200 alice -" }.count == 2)
        #expect(events.filter { $0 == "MESSAGE $default 200 alice -" }.count == 2)
        #expect(events.contains("MESSAGE $default 429 alice THROTTLED"))
        #expect(events.filter { $0 == "DISCONNECT $disconnect 200 alice -" }.count == 2)
        #expect(lines.count == 10, "the keyed stage keeps no log: \(events)")
        try await authorizer.close()
    }

    /// The status a raw upgrade of `target` gets.
    static func handshake(_ port: Int, _ target: String, headers: [(String, String)] = []) async -> Int? {
        guard let client = try? await RawClient.connect(port: port) else { return nil }
        defer { client.close() }
        try? await client.send(RawClient.upgrade(target, host: "127.0.0.1:\(port)", headers: headers))
        return await client.status()
    }
}
