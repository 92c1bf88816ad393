public import APIGatewayWebSocketsClient

// The chat's messages, in a module of their own that the server and its Swift clients both import:
// the server's handlers decode the requests and encode the answers (`ChatController`), and a
// client sends the same types and decodes the same answers (`GatewayClient.request(_:)`), so the
// two cannot drift apart. The module needs only the client's two protocols, not the server.

/// `{"action":"sendmessage","channel":"lobby","text":"hi"}`: a line to `channel`, which the sender
/// must be in, or, without one, to every room the sender is in. Sent with an id, it is answered
/// with a ``Sent`` receipt.
public struct SendMessage: ActionRequest, Decodable {
    public typealias Answer = Sent
    public static let action = "sendmessage"

    public var text: String
    public var channel: String?

    public init(text: String, channel: String? = nil) {
        self.text = text
        self.channel = channel
    }
}

/// The receipt of a ``SendMessage``: the rooms it went to and how many connections it reached.
public struct Sent: Codable, Sendable, Hashable {
    public var type = "sent"
    public var rooms: [String]
    public var delivered: Int

    public init(rooms: [String], delivered: Int) {
        self.rooms = rooms
        self.delivered = delivered
    }
}

/// A line of the chat, as everyone in the room hears it. In a room's stream it also carries the
/// stream's `channel`, `offset` and `epoch`, which the client reads from the message itself.
public struct ChatLine: Codable, Sendable, Hashable {
    public var type = "message"
    public var from: String
    public var text: String

    public init(from: String, text: String) {
        self.from = from
        self.text = text
    }
}

/// `{"action":"announce","text":"…"}`: a line to every connection, for staff only.
public struct Announce: ActionMessage, Decodable {
    public static let action = "announce"

    public var text: String

    public init(text: String) { self.text = text }
}

/// `{"action":"whoami"}`: the sender's connection, user and rooms.
public struct WhoAmI: ActionRequest, Decodable {
    public static let action = "whoami"

    public struct Answer: Codable, Sendable, Hashable {
        public var connectionId: String
        public var channels: [String]
        public var user: String?
        public var requestCount: Int

        public init(connectionId: String, channels: [String], user: String?, requestCount: Int) {
            self.connectionId = connectionId
            self.channels = channels
            self.user = user
            self.requestCount = requestCount
        }
    }

    public init() {}
}
