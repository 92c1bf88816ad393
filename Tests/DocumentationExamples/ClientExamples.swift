import APIGatewayWebSockets
import APIGatewayWebSocketsClient
import Foundation

/// APIGatewayWebSocketsClient.docc: the client's overview.
struct ClientExamples {
    // ChatMessages: imported by the server and by its clients.
    public struct WhoAmI: ActionRequest, Decodable {
        public static let action = "whoami"
        public struct Answer: Codable, Sendable { public let user: String }
        public init() {}
    }
    public struct ChatLine: Codable, Sendable { public let from: String; public let text: String }

    struct ChatController: WebSocketController {
        let routeKey = RouteKey.default
        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.onRaw(WhoAmI.action) { _, context in
                try await context.reply(WhoAmI.Answer(user: context.session.userID ?? "nobody"))
            }
        }
    }

    func listen(to url: URL, token: @escaping @Sendable () async throws -> String) async throws {
        let client = GatewayClient(url: url, configuration: .init(token: token, channels: ["lobby"]))
        try await client.connect()
        let me = try await client.request(WhoAmI())
        print("connected as \(me.user)")
        do {
            try await client.join("staff")
        } catch let refusal as GatewayRefusal {
            print("staff: \(refusal.status) \(refusal.reason)")  // 403 Permission denied
        }
        for await message in client.messages {
            if let line = try? message.decode(ChatLine.self) { print("\(message.channel ?? ""): \(line.from): \(line.text)") }
        }
    }

    func untyped(_ client: GatewayClient) async throws -> WhoAmI.Answer {
        try await client.request(["action": "whoami"], as: WhoAmI.Answer.self)
    }
}
