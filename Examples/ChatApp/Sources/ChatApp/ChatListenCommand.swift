import APIGatewayWebSockets
import ChatCore
import Fluent
import Foundation
import Vapor
import VaporAPIGatewayWebSockets

/// `listen --channel lobby [--user admin]`: prints a channel's messages as they arrive, resuming
/// after a cut (`ChatListen`, which the Hummingbird example's `listen` runs too).
struct ChatListenCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "channel", help: "The channel to listen to")
        var channel: String?
        @Option(name: "user", help: "Whose connection it is (default admin)")
        var user: String?
        @Option(name: "count", help: "Stop after this many messages")
        var count: Int?
        @Option(name: "seconds", help: "Stop after this many seconds")
        var seconds: Int?
    }

    let identity: any IdentityStore

    var help: String { "Prints a channel's messages as they arrive, resuming after a cut." }

    func run(using context: CommandContext, signature: Signature) async throws {
        try await ChatListen.run(
            channel: signature.channel, user: signature.user, count: signature.count, seconds: signature.seconds, identity: identity,
            database: context.application.db)
    }
}
