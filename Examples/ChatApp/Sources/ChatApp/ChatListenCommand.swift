import APIGatewayWebSockets
import APIGatewayWebSocketsClient
import Fluent
import Foundation
import Vapor
import VaporAPIGatewayWebSockets

/// `listen --channel lobby [--user admin]`: prints a channel's messages as they arrive, one JSON
/// object a line on standard output, for an operator, through the gateway like any client. It is
/// the Swift client (`GatewayClient`) at work: it signs in with a fresh one-time token of `--user`
/// on every connect (issued in the app's database, which it shares), and after a cut it reconnects
/// and resumes from the last message it printed, so nothing is missed or printed twice.
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
        guard let name = signature.channel else { throw ChatError(description: "listen needs --channel NAME") }
        let channel: ChannelName
        do { channel = try ChannelName(name) } catch { throw ChatError(description: "--channel: \(error)") }
        let user = signature.user ?? "admin"
        let app = context.application
        guard let record = try await GatewayModel.query(on: app.db).filter(\.$name == ChatProvisioning.gatewayName).first(),
            let endpoint = record.apiEndpoint, let url = URL(string: endpoint + "/" + record.stage)
        else {
            throw ChatError(description: "no API is applied yet: start the app (swift run chat-example) first")
        }
        let tokens = ConnectionTokens(store: identity)
        let client = GatewayClient(
            url: url,
            configuration: .init(
                token: { try await tokens.issue(userID: user, webSessionID: nil).token }, channels: [channel.rawValue],
                maximumFailedConnects: 20))
        try await client.connect()
        FileHandle.standardError.write(Data("listening to \(channel) at \(url) as \(user)\n".utf8))
        let deadline = signature.seconds.map { ContinuousClock.now + .seconds($0) }
        let stop = deadline.map { deadline in Task { try? await Task.sleep(until: deadline); await client.close() } }
        var printed = 0
        for await message in client.messages where message.channel == channel.rawValue {
            FileHandle.standardOutput.write(message.data + Data("\n".utf8))
            printed += 1
            if let count = signature.count, printed >= count { break }
        }
        stop?.cancel()
        await client.close()
    }
}
