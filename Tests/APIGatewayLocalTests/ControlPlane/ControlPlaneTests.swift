import APIGatewayAWS
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PeerSupport
import Testing

@testable import APIGatewayLocal

/// boto3's apigatewayv2 client provisions an API on the local gateway, a WebSocket client then
/// uses it, and the API survives a restart through the state file.
@Suite(.serialized) struct ControlPlaneTests {
    @Test func boto3ProvisionsAnAPIThatServesClientsAndSurvivesARestart() async throws {
        guard let python = await PythonPeer.require("boto3") else { return }
        let stateFile = FileManager.default.temporaryDirectory.appendingPathComponent("local-state-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: stateFile) }
        let rig = try await Rig.start(
            apiId: "unused",
            backend: { request in
                request.uri.hasPrefix("/ws/sendmessage") ? .init(status: 200, body: #"{"answered":true}"#) : .init(status: 200)
            }, configure: { $0.stateFile = stateFile })
        let credential = LocalGatewayConfiguration.developmentCredential
        let script = PythonPeer.repositoryRoot.appendingPathComponent("Tests/Peers/provision_local.py").path
        let output = try await PythonPeer.run(
            python, [script, "http://127.0.0.1:\(rig.gateway.port!)", credential.accessKeyID, credential.secretAccessKey, rig.backend.url],
            input: Data()
        )
        try #require(output.status == 0, "\(String(decoding: output.stderr, as: UTF8.self))")
        let result = try JSONSerialization.jsonObject(with: output.stdout) as! [String: Any]
        let apiEndpoint = try #require(result["apiEndpoint"] as? String)
        #expect(apiEndpoint == "ws://127.0.0.1:\(rig.gateway.port!)/\(result["apiId"] as! String)")

        // The provisioned API serves a real client: $connect, a two-way custom route.
        let client = try await TestClient.connect(apiEndpoint + "/dev")
        #expect(await eventually { rig.requests(to: "/ws/connect").count == 1 })
        try await client.send(#"{"action":"sendmessage"}"#)
        #expect(await client.next() == #"{"answered":true}"#)
        try await client.close()

        // The custom domain: a client reaches the mapped stage at ws://ws.example.com/chat (no DNS:
        // the connection goes to the gateway's port, the domain is the Host), and the backend sees
        // the domain as context.domainName.
        let viaDomain = try await TestClient.connect("ws://ws.example.com/chat", through: rig.gateway.port!)
        #expect(await eventually { rig.requests(to: "/ws/connect").count == 2 })
        #expect(rig.requests(to: "/ws/connect").first?.header("X-Domain-Name") == "127.0.0.1", "the Host the client sent")
        #expect(rig.requests(to: "/ws/connect").last?.header("X-Domain-Name") == "ws.example.com")
        let viaDomainID = try #require(rig.requests(to: "/ws/connect").last?.header("connectionId"))
        // @connections in the custom-domain form: https://{domain}/{basePath}/@connections/{id}.
        let endpoint = try ManagementEndpoint(url: "http://ws.example.com/chat")
        var signed = SigV4Request(
            method: "POST", host: endpoint.hostHeader, path: endpoint.path(forConnection: viaDomainID), body: Array("via the domain".utf8))
        SigV4Signer(service: "execute-api", region: "us-east-1").sign(&signed, credential: credential)
        var post = HTTPClientRequest(url: "http://127.0.0.1:\(rig.gateway.port!)" + endpoint.path(forConnection: viaDomainID))
        post.method = .POST
        post.headers.add(name: "Host", value: "ws.example.com")
        for header in signed.headers { post.headers.add(name: header.name, value: header.value) }
        post.body = .bytes(ByteBuffer(string: "via the domain"))
        let posted = try await HTTPClient.shared.execute(post, timeout: .seconds(5))
        #expect(posted.status == .ok)
        #expect(await viaDomain.next() == "via the domain")
        // An unmapped base path on the domain is refused, as an unknown API is.
        await #expect(throws: (any Error).self) { try await TestClient.connect("ws://ws.example.com/other", through: rig.gateway.port!) }
        try await viaDomain.close()

        // An unsigned control-plane request is refused.
        let unsigned = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(rig.gateway.port!)/v2/apis"), timeout: .seconds(5))
        #expect(unsigned.status.code == 403 && unsigned.headers.first(name: "x-amzn-ErrorType") == "ForbiddenException")

        // A new gateway on the same state file serves the same API.
        try await rig.gateway.stop()
        let restarted = LocalGateway(configuration: LocalGatewayConfiguration(port: 0, stateFile: stateFile))
        try await restarted.start()
        let api = try #require(restarted.currentAPIs.first { $0.apiId == result["apiId"] as? String })
        #expect(api.routes.count == 4 && api.stages["dev"]?.stageVariables == ["env": "local"])
        let again = try await TestClient.connect("ws://127.0.0.1:\(restarted.port!)/\(api.apiId)/dev")
        #expect(await eventually { rig.requests(to: "/ws/connect").count == 3 })
        try await again.close()
        let domain = try #require(restarted.currentDomainNames.first, "the custom domain is in the state file too")
        #expect(domain.domainName == "ws.example.com" && domain.apiGatewayDomainName == result["domainTarget"] as? String)
        let againViaDomain = try await TestClient.connect("ws://ws.example.com/chat", through: restarted.port!)
        #expect(await eventually { rig.requests(to: "/ws/connect").count == 4 })
        try await againViaDomain.close()
        try await restarted.stop()
        try await rig.backend.close()
    }
}
