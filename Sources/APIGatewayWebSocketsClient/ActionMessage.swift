/// A message with the name of the backend handler it goes to: its fields and `"action": action`
/// make the frame. Declare it once, in a module the server and its clients share, and both sides
/// use the one type: the server's handler decodes it (`handlers.on(SendMessage.action,
/// SendMessage.self)`) and the client sends it (``GatewayClient/send(_:)-(Message)``).
public protocol ActionMessage: Encodable, Sendable {
    /// The `action` the backend's handler is registered under.
    static var action: String { get }
}

/// A ``ActionMessage`` the backend answers, with the type of its answer:
/// ``GatewayClient/request(_:timeout:)`` returns an `Answer`.
public protocol ActionRequest: ActionMessage {
    associatedtype Answer: Decodable
}

/// A frame's fields with its `action`, so that the type need not carry one.
struct ActionFrame<Message: ActionMessage>: Encodable, Sendable {
    let message: Message

    private enum Key: String, CodingKey { case action }

    func encode(to encoder: any Encoder) throws {
        try message.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(Message.action, forKey: .action)
    }
}
