import APIGatewayWebSockets
import Foundation
import Vapor

/// `cleanup`: deletes expired one-time tokens and the rate-limit hits no window can count any more.
///
/// ```sh
/// swift run App cleanup
/// ```
struct CleanupCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(
            name: "hits-older-than-seconds",
            help: "Delete rate-limit hits older than this (default: the longest connect window, at least 3600)")
        var hitsOlderThan: Int?
        init() {}
    }

    var help: String { "Deletes expired connection tokens and rate-limit hits older than any window." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let dispatcher = try context.webSocketGateway.dispatcher
        guard let identity = dispatcher.identity else { throw GatewayCommandError.noIdentityStore() }
        let limits = dispatcher.configuration.connectRateLimits
        let longest = [limits.perAddress, limits.perUser].compactMap { $0?.window.components.seconds }.max() ?? 0
        let age = signature.hitsOlderThan ?? max(3600, Int(longest))
        let now = Date()
        let tokens = try await identity.purgeTokens(expiredBefore: now)
        let hits = try await identity.purgeHits(before: now.addingTimeInterval(-Double(age)))
        context.console.print("Deleted \(tokens) expired token(s) and \(hits) rate-limit hit(s) older than \(age) s.")
    }
}
