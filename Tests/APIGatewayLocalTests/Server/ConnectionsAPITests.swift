import APIGatewayAWS
import AsyncHTTPClient
import Foundation
import NIOCore
import PeerSupport
import Synchronization
import Testing

@testable import APIGatewayLocal

/// `@connections` on the local gateway: cases 19-22 of the behaviour reference, through our
/// ManagementClient and through raw HTTP, and boto3's client when the Python peer is present.
@Suite(.serialized) struct ConnectionsAPITests {
    func connectedClient(_ rig: Rig) async throws -> (TestClient, String) {
        let client = try await TestClient.connect(rig.url, headers: ["User-Agent": "wscat/5"])
        let id = try #require(rig.requests(to: "/ws/connect").last?.header("connectionId"))
        #expect(await eventually { rig.gateway.connections.get(id) != nil })
        return (client, id)
    }

    // 19. A signed POST delivers a text frame; `%40connections` works too.
    @Test func case19SignedPostDelivers() async throws {
        let rig = try await Rig.start()
        let (client, id) = try await connectedClient(rig)
        try await rig.managementClient().post(ByteBuffer(string: "hi"), to: id, endpoint: rig.endpoint, region: "us-east-1")
        #expect(await client.next() == "hi")
        // The raw form AWS documents: %40connections and the id percent-encoded, signed by hand.
        let path = "/abc123/dev/%40connections/" + id.replacingOccurrences(of: "=", with: "%3D")
        var signed = SigV4Request(method: "POST", host: "127.0.0.1:\(rig.gateway.port!)", path: path, body: Array("raw".utf8))
        SigV4Signer(service: "execute-api", region: "us-east-1").sign(&signed, credential: LocalGatewayConfiguration.developmentCredential)
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(rig.gateway.port!)" + path)
        request.method = .POST
        for header in signed.headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(string: "raw"))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        #expect(response.status.code == 200)
        #expect(await client.next() == "raw")
        try await client.close()
        try await rig.stop()
    }

    // 20. Gone, too large, unsigned or wrongly signed, malformed: AWS status and error type.
    @Test func case20Errors() async throws {
        let rig = try await Rig.start()
        let (client, id) = try await connectedClient(rig)
        let client20 = rig.managementClient()
        let gone = await #expect(throws: AWSError.self) {
            try await client20.post(ByteBuffer(string: "x"), to: "NotAConnection1=", endpoint: rig.endpoint, region: "us-east-1")
        }
        #expect(gone?.code == .gone && gone?.status == 410)
        let large = await #expect(throws: AWSError.self) {
            try await client20.post(ByteBuffer(repeating: 0x61, count: 131_073), to: id, endpoint: rig.endpoint, region: "us-east-1")
        }
        #expect(large?.code == .payloadTooLarge && large?.status == 413)
        let wrongKey = Credential(
            accessKeyID: LocalGatewayConfiguration.developmentCredential.accessKeyID, secretAccessKey: "not-the-secret")
        let forged = await #expect(throws: AWSError.self) {
            try await rig.managementClient(credential: wrongKey).post(
                ByteBuffer(string: "x"), to: id, endpoint: rig.endpoint, region: "us-east-1")
        }
        #expect(forged?.code == .forbidden && forged?.status == 403)
        var unsigned = HTTPClientRequest(url: rig.managementURL + "/@connections/" + id.replacingOccurrences(of: "=", with: "%3D"))
        unsigned.method = .POST
        unsigned.body = .bytes(ByteBuffer(string: "x"))
        let response = try await HTTPClient.shared.execute(unsigned, timeout: .seconds(5))
        #expect(response.status.code == 403 && response.headers.first(name: "x-amzn-ErrorType") == "ForbiddenException")
        let malformed = await #expect(throws: AWSError.self) {
            try await client20.post(ByteBuffer(string: "x"), to: "bad!id", endpoint: rig.endpoint, region: "us-east-1")
        }
        #expect(malformed?.code == .badRequest && malformed?.status == 400)
        #expect(await client.next(timeout: .milliseconds(200)) == nil, "nothing was delivered")
        try await client.close()
        try await rig.stop()
    }

    // 21. GET answers connectedAt, identity and lastActiveAt, which advances on inbound frames.
    @Test func case21Get() async throws {
        let rig = try await Rig.start()
        let (client, id) = try await connectedClient(rig)
        let first = try await rig.managementClient().connection(id, endpoint: rig.endpoint, region: "us-east-1")
        #expect(first.sourceIP == "127.0.0.1" && first.userAgent == "wscat/5")
        try await Task.sleep(for: .milliseconds(20))  // let the wall clock move on before the next frame
        try await client.send("ping")
        #expect(
            await eventually {
                (try? await rig.managementClient().connection(id, endpoint: rig.endpoint, region: "us-east-1").lastActiveAt
                    > first.lastActiveAt) == true
            })
        try await client.close()
        try await rig.stop()
    }

    // 22. DELETE: 204, the client sees 1000, $disconnect reports it, later posts are gone.
    @Test func case22Delete() async throws {
        let rig = try await Rig.start()
        let (client, id) = try await connectedClient(rig)
        try await rig.managementClient().deleteConnection(id, endpoint: rig.endpoint, region: "us-east-1")
        #expect(await client.closeCode() == 1000)
        #expect(await eventually { rig.requests(to: "/ws/disconnect").count == 1 })
        let disconnect = try #require(rig.requests(to: "/ws/disconnect").first)
        #expect(
            disconnect.header("X-Disconnect-Code") == "1000" && disconnect.header("X-Disconnect-Reason") == "Connection Closed Normally")
        let gone = await #expect(throws: AWSError.self) {
            try await rig.managementClient().post(ByteBuffer(string: "x"), to: id, endpoint: rig.endpoint, region: "us-east-1")
        }
        #expect(gone?.code == .gone)
        try await rig.stop()
    }

    // boto3's apigatewaymanagementapi client, unmodified but for endpoint_url.
    @Test func boto3ManagementClientWorksAgainstIt() async throws {
        guard let python = await PythonPeer.require("boto3") else { return }
        let rig = try await Rig.start()
        let (client, id) = try await connectedClient(rig)
        let credential = LocalGatewayConfiguration.developmentCredential
        let script = """
            import boto3, sys
            c = boto3.client("apigatewaymanagementapi", endpoint_url=sys.argv[1], region_name="us-east-1",
                             aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
            c.post_to_connection(ConnectionId=sys.argv[4], Data=b"from boto3")
            info = c.get_connection(ConnectionId=sys.argv[4])
            assert info["Identity"]["SourceIp"] == "127.0.0.1", info
            try:
                c.post_to_connection(ConnectionId="Missing123456=", Data=b"x")
                print("no error")
            except c.exceptions.GoneException:
                print("gone")
            """
        let output = try await PythonPeer.run(
            python, ["-c", script, rig.managementURL, credential.accessKeyID, credential.secretAccessKey, id], input: Data())
        #expect(output.status == 0, "\(String(decoding: output.stderr, as: UTF8.self))")
        #expect(String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "gone")
        #expect(await client.next() == "from boto3")
        try await client.close()
        try await rig.stop()
    }
}

/// Cases 6 and 13 of the behaviour reference.
@Suite(.serialized) struct ConnectTimingTests {
    // 6. A post to the connection while its $connect is still running is 410: it does not exist yet.
    @Test func case06NotReachableDuringConnect() async throws {
        let gatewayPort = Mutex<Int?>(nil)
        let statusDuringConnect = Mutex<Int?>(nil)
        let rig = try await Rig.start(backend: { request in
            guard request.uri.hasPrefix("/ws/connect"), let id = request.header("connectionId"), let port = gatewayPort.withLock({ $0 })
            else {
                return .init(status: 200)
            }
            let client = ManagementClient(
                httpClient: .shared, credentials: StaticCredentialProvider(LocalGatewayConfiguration.developmentCredential),
                retry: .init(maxAttempts: 1))
            do {
                try await client.post(
                    ByteBuffer(string: "too early"), to: id, endpoint: try ManagementEndpoint(url: "http://127.0.0.1:\(port)/abc123/dev"),
                    region: "us-east-1")
                statusDuringConnect.withLock { $0 = 200 }
            } catch let error as AWSError {
                statusDuringConnect.withLock { $0 = error.status }
            } catch {
                statusDuringConnect.withLock { $0 = -1 }
            }
            return .init(status: 200)
        })
        gatewayPort.withLock { $0 = rig.gateway.port }
        let client = try await TestClient.connect(rig.url)
        #expect(statusDuringConnect.withLock { $0 } == 410)
        #expect(await client.next(timeout: .milliseconds(200)) == nil, "nothing was delivered")
        try await client.close()
        try await rig.stop()
    }

    // 13. Integrations of one connection run concurrently: a fast answer overtakes a slow one.
    @Test func case13MessagesOfOneConnectionRunConcurrently() async throws {
        let rig = try await Rig.start(
            twoWay: ["sendmessage"],
            backend: { request in
                let body = String(decoding: request.body, as: UTF8.self)
                if body.contains("slow") { try? await Task.sleep(for: .milliseconds(500)) }
                return .init(status: 200, body: body.contains("slow") ? "slow reply" : "fast reply")
            })
        let client = try await TestClient.connect(rig.url)
        try await client.send(#"{"action":"sendmessage","speed":"slow"}"#)
        try await client.send(#"{"action":"sendmessage","speed":"fast"}"#)
        #expect(await client.next() == "fast reply")
        #expect(await client.next() == "slow reply")
        try await client.close()
        try await rig.stop()
    }
}
