public import APIGatewayWebSockets
import APIGatewayWebSocketsClient
import APIGatewayWebSocketsSQL
public import FluentKit
import Foundation

/// `listen --channel lobby [--user admin] [--count N] [--seconds S]`, for both examples: prints a
/// channel's messages as they arrive, one JSON object a line on standard output, for an operator,
/// through the gateway like any client. It is the Swift client (`GatewayClient`) at work: it signs
/// in with a fresh one-time token of the user on every connect (issued in the app's database,
/// which it shares), and after a cut it reconnects and resumes from the last message it printed,
/// so nothing is missed or printed twice.
public enum ChatListen {
    public static func run(
        channel name: String?, user: String?, count: Int?, seconds: Int?, identity: (any IdentityStore)?, database: any Database
    ) async throws {
        guard let name else { throw ChatSetupError(description: "listen needs --channel NAME") }
        let channel: ChannelName
        do { channel = try ChannelName(name) } catch { throw ChatSetupError(description: "--channel: \(error)") }
        if let count, count < 1 { throw ChatSetupError(description: "--count must be 1 or more") }
        if let seconds, seconds < 1 { throw ChatSetupError(description: "--seconds must be 1 or more") }
        guard let identity else { throw ChatSetupError(description: "the app's store keeps no connection tokens") }
        let user = user ?? "admin"
        guard let record = try await GatewayModel.query(on: database).filter(\.$name == ChatLocalGateway.gatewayName).first(),
            let endpoint = record.apiEndpoint, let url = URL(string: endpoint + "/" + record.stage)
        else {
            throw ChatSetupError(description: "no API is applied yet: start the app first")
        }
        let tokens = ConnectionTokens(store: identity)
        let client = GatewayClient(
            url: url,
            configuration: .init(
                token: { try await tokens.issue(userID: user, webSessionID: nil).token }, channels: [channel.rawValue],
                maximumFailedConnects: 20))
        try await client.connect()
        FileHandle.standardError.write(Data("listening to \(channel) at \(url) as \(user)\n".utf8))
        let deadline = seconds.map { ContinuousClock.now + .seconds($0) }
        let stop = deadline.map { deadline in Task { try? await Task.sleep(until: deadline); await client.close() } }
        var printed = 0
        for await message in client.messages where message.channel == channel.rawValue {
            FileHandle.standardOutput.write(message.data + Data("\n".utf8))
            printed += 1
            if let count, printed >= count { break }
        }
        stop?.cancel()
        await client.close()
    }
}
