public import APIGatewayWebSockets
import ChatMessages
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

    // The messages are ChatMessages' types, the ones the Swift client sends and decodes.

    public func handlers(_ handlers: inout HandlerRegistry) {
        handlers.addChannelHandlers()
        handlers.on(SendMessage.action, SendMessage.self) { message, context in
            let joined = try await context.joinedChannels()
            let rooms: [ChannelName]
            if let name = message.channel {
                let channel: ChannelName
                do { channel = try ChannelName(name) } catch { throw Refusal(status: .badRequest, reason: "channel: \(error)") }
                guard joined.contains(channel) else { throw Refusal(status: .forbidden, reason: "Join \(channel) before sending to it") }
                rooms = [channel]
            } else {
                guard !joined.isEmpty else { throw Refusal(status: .badRequest, reason: "Join a room first") }
                rooms = joined
            }
            let from = context.session.userID ?? context.connectionID.rawValue
            var delivered = 0
            for room in rooms {
                delivered += try await context.send(ChatLine(from: from, text: message.text), to: .channel(room)).sent
            }
            // A request (a message with an id) is answered: the page's promise resolves.
            if context.requestID != nil { try await context.reply(Sent(rooms: rooms.map(\.rawValue), delivered: delivered)) }
        }
        handlers.on(Announce.action, Announce.self, requires: .permission(.staff)) { message, context in
            let from = context.session.userID ?? context.connectionID.rawValue
            try await context.send(ChatLine(from: from, text: message.text), to: .everyone)
        }
        handlers.onRaw(WhoAmI.action) { _, context in
            let session = context.session
            try await context.reply(
                WhoAmI.Answer(
                    connectionId: session.connectionID.rawValue, channels: try await context.joinedChannels().map(\.rawValue),
                    user: session.userID, requestCount: session.requestCount))
        }
        handlers.onRaw(HandlerRegistry.defaultName) { body, context in
            try await context.reply(["echo": String(buffer: body)])
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
