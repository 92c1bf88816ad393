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
        let gateway = try context.webSocketGateway
        let stream: StreamID
        switch (signature.channel, signature.user) {
        case (let channel?, nil):
            do { stream = .channel(try ChannelName(channel)) } catch { throw GatewayCommandError.invalid("--channel", error) }
        case (nil, let user?) where !user.isEmpty: stream = .user(user)
        default: throw GatewayCommandError.missing("--channel NAME or --user ID (one of them)", for: "publish")
        }
        guard let json = signature.json else { throw GatewayCommandError.missing("--json '{…}'", for: "publish", "the message") }
        let payload: Payload
        do {
            payload = try Payload(text: json)
        } catch {
            throw GatewayCommandError.invalid("--json", error)
        }
        guard (try? JSONSerialization.jsonObject(with: Data(json.utf8))) is [String: Any] else {
            throw GatewayCommandError.invalid("--json", reason: "not a JSON object, such as '{\"text\":\"hi\"}'")
        }
        let streams = try gateway.streams()
        let apiID: APIID?
        do { apiID = try signature.api.map { try APIID($0) } } catch { throw GatewayCommandError.invalid("--api", error) }
        let record = try await gateway.record(apiID)
        let publication = try await streams.publish(payload, to: stream, on: record, idempotencyKey: signature.idempotencyKey)
        let position = "\(stream) at offset \(publication.position.offset) (epoch \(publication.position.epoch))"
        if publication.duplicate {
            context.console.print("Already published: \(position); the idempotency key was used, nothing was sent again.")
        } else if let report = publication.report {
            context.console.print("Published \(position): \(report).")
            for failure in report.failures.prefix(5) {
                context.console.print("  \(failure.connectionID): \(failure.reason)")
            }
        }
    }
}
