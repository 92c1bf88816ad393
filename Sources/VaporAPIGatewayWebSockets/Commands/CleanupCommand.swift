import APIGatewayWebSockets
import APIGatewayWebSocketsCommands
import Foundation
import Vapor

/// `cleanup`: what the scheduled cleanup does, once: marks sessions API Gateway has certainly
/// closed, deletes old disconnected sessions, expired tokens, rate-limit hits no window counts any
/// more, and expired web sessions.
///
/// ```sh
/// swift run App cleanup
/// ```
struct CleanupCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(
            name: "hits-older-than-seconds",
            help: "Delete rate-limit hits older than this (default: the longest window, at least 3600)")
        var hitsOlderThan: Int?
        init() {}
    }

    var help: String { "Deletes expired sessions, connection tokens, web sessions and rate-limit hits older than any window." }

    func run(using context: CommandContext, signature: Signature) async throws {
        for line in try await context.maintenance.cleanup(hitsOlderThanSeconds: signature.hitsOlderThan) { context.console.print(line) }
    }
}
