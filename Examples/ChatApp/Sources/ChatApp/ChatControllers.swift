import APIGatewayWebSockets
import Foundation

/// The chat's `$default` controller: connects, disconnects, and every message with no route of
/// its own.
///
/// Messages: `{"action":"sendmessage","text":"…"}` goes to everyone in the sender's channel
/// (everyone when it has none); `{"action":"join","channel":"…"}` moves the sender;
/// `{"action":"whoami"}` answers the sender's session; anything else is echoed back.
public struct ChatController: WebSocketController {
    public let routeKey = RouteKey.default

    /// The longest `?name=` accepted, in characters.
    public static let maximumNameLength = 64

    public init() {}

    struct SendMessage: Decodable, Sendable { let text: String }
    struct Join: Decodable, Sendable { let channel: ChannelName }
    struct Chat: Encodable, Sendable { let from: String; let text: String }

    public func connect(_ context: ConnectContext) async throws -> ConnectDecision {
        // `?name=` names the user; everything else about the connection comes from the gateway.
        guard let name = context.queryParameter("name"), !name.isEmpty else { return .accept }
        guard name.count <= Self.maximumNameLength else {
            return .reject(status: .badRequest, reason: "A name is at most \(Self.maximumNameLength) characters")
        }
        return .accept(userID: name)
    }

    public func handlers(_ handlers: inout HandlerRegistry) {
        handlers.on("sendmessage", SendMessage.self) { message, context in
            let audience: Audience = context.session.channel.map { .channel($0) } ?? .everyone
            try await context.send(Chat(from: context.session.userID ?? context.connectionID.rawValue, text: message.text), to: audience)
        }
        handlers.on("join", Join.self) { message, context in
            try await context.join(message.channel)
            try await context.reply(["joined": message.channel.rawValue])
        }
        handlers.onRaw("whoami") { _, context in
            try await context.reply(WhoAmI(context.session))
        }
        handlers.onRaw(HandlerRegistry.defaultName) { body, context in
            try await context.reply(["echo": String(buffer: body)])
        }
    }

    struct WhoAmI: Encodable {
        let connectionId: String
        let channel: String?
        let user: String?
        let requestCount: Int
        init(_ session: Session) {
            connectionId = session.connectionID.rawValue
            channel = session.channel?.rawValue
            user = session.userID
            requestCount = session.requestCount
        }
    }
}

/// The guide's custom route: messages whose `action` is `notifications` reach this controller at
/// `/websockets/notifications/`, where `handler` picks `subscribe` or the default.
public struct NotificationsController: WebSocketController {
    public let routeKey = try! RouteKey("notifications")

    public init() {}

    struct Subscribe: Decodable, Sendable { let topic: String }

    public func handlers(_ handlers: inout HandlerRegistry) {
        handlers.on("subscribe", Subscribe.self) { message, context in
            try await context.reply(["subscribed": message.topic])
        }
        handlers.onRaw(HandlerRegistry.defaultName) { _, context in
            try await context.reply(["notifications": "say {\"handler\":\"subscribe\",\"topic\":…}"])
        }
    }
}
