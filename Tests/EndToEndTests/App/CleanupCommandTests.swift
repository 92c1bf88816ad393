import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Foundation
import NIOCore
import PeerSupport
import Testing
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

/// `cleanup` deletes expired tokens and old rate-limit hits, and keeps the rest.
@Suite struct CleanupCommandTests {
    @Test func cleanupDeletesWhatNoLongerCounts() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        try await withChatApp(path: database.path, poster: RecordingPoster()) { app, gateway in
            let identity = try #require(gateway.dispatcher.identity)
            let now = Date()
            let tokens = ConnectionTokens(store: identity)
            _ = try await tokens.issue(userID: "ada", webSessionID: "w", now: now.addingTimeInterval(-120))  // expired
            let live = try await tokens.issue(userID: "ada", webSessionID: "w", now: now)
            _ = try await identity.hit("connect address 1", at: now.addingTimeInterval(-7200), window: .seconds(60), limit: 5)
            _ = try await identity.hit("connect address 1", at: now, window: .seconds(60), limit: 5)
            // A delivered message older than the chat's history (3 hours) is pruned; a fresh one kept.
            let streams = try #require(gateway.dispatcher.streams)
            for age in [4.0 * 3600, 0] {
                let appended = try await streams.store.append(
                    NewStreamMessage(
                        apiID: "chatlocal", stream: .channel("lobby"), body: ByteBuffer(string: #"{"text":"t"}"#), idempotencyKey: nil,
                        publishedAt: now.addingTimeInterval(-age), claimedUntil: nil))
                try await streams.store.markDelivered([appended.message])
            }
            let console = RecordingConsole()
            var context = CommandContext(console: console, input: CommandInput(arguments: ["App", "cleanup"]))
            context.application = app
            try await console.run(AsyncCommands(commands: ["cleanup": app.asyncCommands.commands["cleanup"]!]).group(), with: context)
            #expect(console.text.contains("expired tokens: 1\n"), "\(console.text)")
            #expect(console.text.contains("rate-limit hits: 1\n"), "older than the hour the longest window needs: \(console.text)")
            #expect(console.text.contains("expired web sessions: 0\n"), "the example keeps its logins in the database: \(console.text)")
            #expect(console.text.contains("stream history: 1\n"), "\(console.text)")
            #expect(try await identity.consumeToken(hash: ConnectionTokens.hash(live.token), at: now) != nil, "a live token is kept")
        }
    }
}
