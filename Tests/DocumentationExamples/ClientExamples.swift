import APIGatewayWebSocketsClient
import Foundation

/// APIGatewayWebSocketsClient.docc: the client's overview.
struct ClientExamples {
    struct WhoAmI: Decodable, Sendable { let user: String }
    struct ChatLine: Decodable, Sendable { let from: String; let text: String }

    func listen(to url: URL, token: @escaping @Sendable () async throws -> String) async throws {
        let client = GatewayClient(url: url, configuration: .init(token: token, channels: ["lobby"]))
        try await client.connect()
        let me = try await client.request(["action": "whoami"], as: WhoAmI.self)
        print("connected as \(me.user)")
        do {
            _ = try await client.request(["action": "join", "channel": "staff"], as: JoinAnswer.self)
        } catch let refusal as GatewayRefusal {
            print("staff: \(refusal.status) \(refusal.reason)")  // 403 Permission denied
        }
        for await message in client.messages {
            if let line = try? message.decode(ChatLine.self) { print("\(message.channel ?? ""): \(line.from): \(line.text)") }
        }
    }
}
