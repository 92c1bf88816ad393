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

/// Frames that break the rules close the connection with their code.
@Suite(.serialized) struct FrameRuleTests {

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
}
