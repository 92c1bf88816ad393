import Foundation
import PeerSupport
import Synchronization
import Testing

@testable import APIGatewayLocal

/// A held connection is its channel's handlers; what the client sent before it left still reaches
/// the backend, and its `$disconnect` comes after the last answer.
@Suite struct HeldConnectionTests {
    /// A review found that messages queued past the concurrency limit, in the same read as the
    /// client's close, were dropped, and that `$disconnect` went while messages were still with the
    /// backend (which marks the session gone, so they were refused).
    @Test func messagesSentBeforeACloseAreAnsweredBeforeTheDisconnect() async throws {
        let log = Mutex<[String]>([])
        let rig = try await Rig.start(
            backend: { request in
                let path = splitURI(request.uri).path
                if path == "/ws/default" {
                    try? await Task.sleep(for: .milliseconds(150))
                    log.withLock { $0.append("answered " + String(decoding: request.body, as: UTF8.self)) }
                } else if path == "/ws/disconnect" {
                    log.withLock { $0.append("disconnect") }
                }
                return .init(status: 200)
            },
            configure: { $0.maximumConcurrentMessages = 2 })
        let client = try await TestClient.connect(rig.url)
        for n in 1...6 { try await client.send("m\(n)") }
        try await client.close()
        #expect(await eventually(timeout: .seconds(10)) { log.withLock { $0.contains("disconnect") } }, "\(log.withLock { $0 })")
        let events = log.withLock { $0 }
        #expect(Set(events.filter { $0.hasPrefix("answered") }) == Set((1...6).map { "answered m\($0)" }), "every message: \(events)")
        #expect(events.last == "disconnect", "the disconnect after the last answer: \(events)")
        try await rig.stop()
    }
}
