import APIGatewayAWS
@testable import APIGatewayLocal
import AsyncHTTPClient
import Foundation
import NIOCore
import PeerSupport
import Testing

/// boto3's apigatewayv2 client provisions an API on the local gateway, a WebSocket client then
/// uses it, and the API survives a restart through the state file.
@Suite(.serialized) struct ControlPlaneTests {
    @Test func boto3ProvisionsAnAPIThatServesClientsAndSurvivesARestart() async throws {
        guard let python = await PythonPeer.interpreter(importing: "boto3") else {
            if PythonPeer.required { Issue.record(Comment(rawValue: PythonPeer.missingMessage("boto3"))) }
            else { print("SKIPPED boto3Provisions…: \(PythonPeer.missingMessage("boto3"))") }
            return
        }
        let stateFile = FileManager.default.temporaryDirectory.appendingPathComponent("local-state-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: stateFile) }
        let rig = try await Rig.start(apiId: "unused", backend: { request in
            request.uri.hasPrefix("/ws/sendmessage") ? .init(status: 200, body: #"{"answered":true}"#) : .init(status: 200)
        }, configure: { $0.stateFile = stateFile })
        let credential = LocalGatewayConfiguration.developmentCredential
        let script = PythonPeer.repositoryRoot.appendingPathComponent("Tests/Peers/provision_local.py").path
        let output = try await PythonPeer.run(
            python, [script, "http://127.0.0.1:\(rig.gateway.port!)", credential.accessKeyID, credential.secretAccessKey, rig.backend.url], input: Data()
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

        // An unsigned control-plane request is refused.
        let unsigned = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(rig.gateway.port!)/v2/apis"), timeout: .seconds(5))
        #expect(unsigned.status.code == 403 && unsigned.headers.first(name: "x-amzn-ErrorType") == "ForbiddenException")

        // A new gateway on the same state file serves the same API.
        try await rig.gateway.stop()
        let restarted = LocalGateway(configuration: LocalGatewayConfiguration(port: 0, stateFile: stateFile))
        try await restarted.start()
        let api = try #require(restarted.currentAPIs.first { $0.apiId == result["apiId"] as? String })
        #expect(api.routes.count == 4 && api.stages["dev"]?.stageVariables == ["env": "local"])
        let again = try await TestClient.connect("ws://127.0.0.1:\(restarted.port!)/\(api.apiId)/dev")
        #expect(await eventually { rig.requests(to: "/ws/connect").count == 2 })
        try await again.close()
        try await restarted.stop()
        try await rig.backend.close()
    }
}
