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

/// The state file: private, never overwritten when it does not decode, a failed save answered.
@Suite(.serialized) struct StateFileTests {

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
}
