import APIGatewayWebSocketsCommands
import APIGatewayWebSockets
import Foundation
import NIOCore
public import Vapor

/// `publish`: publishes a JSON object into a channel's or a user's stream, from a shell, a cron
/// job or a deploy script, while the app runs (it shares the app's database). It prints the
/// message's position and whom the delivery reached; a message it could not deliver stays in the
/// outbox, and the running app's delivery worker delivers it.
///
/// ```sh
/// swift run App publish --channel lobby --json '{"type":"message","from":"ops","text":"Deploy at 5"}' --idempotency-key deploy-2026-12-04
/// swift run App publish --user ada --json '{"type":"notice","text":"Your export is ready"}'
/// ```
public struct PublishCommand: AsyncCommand {
    public struct Signature: CommandSignature {
        @Option(name: "channel", help: "The channel to publish to")
        var channel: String?
        @Option(name: "user", help: "The user to publish to (every connection of theirs)")
        var user: String?
        @Option(name: "json", help: "The message: a JSON object")
        var json: String?
        @Option(name: "idempotency-key", help: "A key that makes a repeated publish a no-op")
        var idempotencyKey: String?
        @Option(name: "api", help: "The API to publish through, when several are registered")
        var api: String?
        public init() {}
    }

    public init() {}

    public var help: String { "Publishes a JSON object to a channel or a user, with its position in their stream." }

    public func run(using context: CommandContext, signature: Signature) async throws {
        let lines = try await context.maintenance.publish(
            channel: signature.channel, user: signature.user, json: signature.json, idempotencyKey: signature.idempotencyKey,
            api: signature.api)
        for line in lines { context.console.print(line) }
    }
}
