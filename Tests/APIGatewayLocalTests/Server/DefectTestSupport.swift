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

extension Rig {
    /// A raw upgrade to `target`, its status; the client stays open.
    func upgrade(_ target: String, headers: [(String, String)] = []) async throws -> (RawClient, Int?) {
        let client = try await RawClient.connect(port: gateway.port!)
        try await client.send(RawClient.upgrade(target, headers: headers))
        return (client, await client.status())
    }
}

/// `rig.upgrade(target)`, as the tests read.
func upgrade(_ rig: Rig, _ target: String, headers: [(String, String)] = []) async throws -> (RawClient, Int?) {
    try await rig.upgrade(target, headers: headers)
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
