import APIGatewayWebSockets
import Foundation

/// The chat's `$default` controller: connects, disconnects, and every message with no route of
/// its own. Only a logged-in user connects (by the login cookie or a one-time `ws_token`).
///
/// Messages:
/// - `{"action":"sendmessage","channel":"room","text":"…"}` goes to everyone in `room`, which the
///   sender must be in; without `channel`, to every room the sender is in;
/// - `join` (with `since` to replay what was missed), `history`, `resume`, `leave`,
///   `change-channel`, `channels` and `presence` are the framework's channel handlers (``HandlerRegistry/addChannelHandlers(presenceLimit:)``), under the channel rules
///   (`staff` is for staff and administrators);
/// - `{"action":"announce","text":"…"}` (staff only) goes to every connection;
/// - `{"action":"whoami"}` answers the sender's session; anything else is echoed back.
///
/// The route is two-way: each answer to the sender (`whoami`, `history`, `channels`, the `sent`
/// receipt, a refusal) travels back in the integration response, with no `@connections` post.
public struct ChatController: WebSocketController {
    public let routeKey = RouteKey.default
    public let connectRequirement: Requirement? = .authenticated
    public let twoWay = true

    public init() {}

    struct SendMessage: Decodable, Sendable {
        let text: String
        let channel: ChannelName?
    }
    struct Announcement: Decodable, Sendable { let text: String }
    struct Sent: Encodable, Sendable {
        let type = "sent"
        let rooms: [ChannelName]
        let delivered: Int
    }
    /// A chat line. Sent to a room, it goes into the room's stream, which adds `channel`, `offset`
    /// and `epoch`: `{"channel":"lobby","offset":12,"epoch":"…","from":"ada","text":"hi","type":"message"}`.
    struct Chat: Encodable, Sendable {
        let type = "message"
        let from: String
        let text: String
    }

    public func handlers(_ handlers: inout HandlerRegistry) {
        handlers.addChannelHandlers()
        handlers.on("sendmessage", SendMessage.self) { message, context in
            let joined = try await context.joinedChannels()
            let rooms: [ChannelName]
            if let channel = message.channel {
                guard joined.contains(channel) else { throw Refusal(status: .forbidden, reason: "Join \(channel) before sending to it") }
                rooms = [channel]
            } else {
                guard !joined.isEmpty else { throw Refusal(status: .badRequest, reason: "Join a room first") }
                rooms = joined
            }
            let from = context.session.userID ?? context.connectionID.rawValue
            var delivered = 0
            for room in rooms {
                delivered += try await context.send(Chat(from: from, text: message.text), to: .channel(room)).sent
            }
            // A request (a message with an id) is answered: the page's promise resolves.
            if context.requestID != nil { try await context.reply(Sent(rooms: rooms, delivered: delivered)) }
        }
        handlers.on("announce", Announcement.self, requires: .permission(.staff)) { message, context in
            let from = context.session.userID ?? context.connectionID.rawValue
            try await context.send(Chat(from: from, text: message.text), to: .everyone)
        }
        handlers.onRaw("whoami") { _, context in
            try await context.reply(WhoAmI(context.session, channels: try await context.joinedChannels()))
        }
        handlers.onRaw(HandlerRegistry.defaultName) { body, context in
            try await context.reply(["echo": String(buffer: body)])
        }
    }

    struct WhoAmI: Encodable {
        let connectionId: String
        let channels: [ChannelName]
        let user: String?
        let requestCount: Int
        init(_ session: Session, channels: [ChannelName]) {
            connectionId = session.connectionID.rawValue
            self.channels = channels
            user = session.userID
            requestCount = session.requestCount
        }
    }
}

/// The guide's custom route: messages whose `action` is `notifications` reach this controller at
/// `/websockets/notifications/`, where `handler` picks `subscribe` or the default.
public struct NotificationsController: WebSocketController {
    public let routeKey: RouteKey = "notifications"

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
