import Foundation
public import NIOCore
import NIOFoundationCompat

/// The named handlers of one controller.
///
/// Each handler takes a `Decodable` message type, decoded from the whole body, or the raw bytes.
/// The name `default` receives every message whose `handler`/`action` names no other handler.
public struct HandlerRegistry: Sendable {
    /// The name of the fallback handler.
    public static let defaultName = "default"

    typealias Handler = @Sendable (ByteBuffer, MessageContext) async throws -> Void

    private(set) var handlers: [String: Handler] = [:]
    /// What each handler requires beyond its controller, by name.
    private(set) var requirements: [String: Requirement] = [:]

    public init() {}

    /// Registers `handler` under `name` for messages that decode as `Message`.
    ///
    /// A body that does not decode is refused with 400 naming the field; the handler is not called.
    /// - Parameters:
    ///   - name: what a message's `handler` or `action` names to reach it.
    ///   - type: the message type the body decodes as.
    ///   - requirement: who may send it, beyond the controller's ``WebSocketController/requirement``.
    ///   - handler: called with the decoded message and its context.
    public mutating func on<Message: Decodable & Sendable>(
        _ name: String,
        _ type: Message.Type = Message.self,
        requires requirement: Requirement? = nil,
        _ handler: @escaping @Sendable (Message, MessageContext) async throws -> Void
    ) {
        requirements[name] = requirement
        handlers[name] = { body, context in
            let message: Message
            do {
                message = try JSONDecoder().decode(Message.self, from: body)
            } catch let error as DecodingError {
                throw Refusal.invalidMessage(error)
            } catch {
                throw Refusal.invalidMessage("Invalid message: body is not valid JSON", detail: "\(error)")
            }
            try await handler(message, context)
        }
    }

    /// Registers `handler` under `name` for the raw body, JSON or not.
    /// - Parameters:
    ///   - name: what a message's `handler` or `action` names to reach it.
    ///   - requirement: who may send it, beyond the controller's ``WebSocketController/requirement``.
    ///   - handler: called with the body as it came and the message's context.
    public mutating func onRaw(
        _ name: String, requires requirement: Requirement? = nil,
        _ handler: @escaping @Sendable (ByteBuffer, MessageContext) async throws -> Void
    ) {
        requirements[name] = requirement
        handlers[name] = handler
    }

    /// Registers the `default` handler for messages that decode as `Message`.
    /// - Parameters:
    ///   - type: the message type the body decodes as.
    ///   - handler: called with the decoded message and its context.
    public mutating func onDefault<Message: Decodable & Sendable>(
        _ type: Message.Type = Message.self,
        _ handler: @escaping @Sendable (Message, MessageContext) async throws -> Void
    ) {
        on(Self.defaultName, type, handler)
    }

    /// The registered handler names.
    public var names: [String] { handlers.keys.sorted() }

    /// The handler a message goes to: its `handler`, else its `action`, else `default`; a name
    /// nobody registered also goes to `default`. Returns the chosen name and handler, or `nil`
    /// when nothing, not even `default`, takes it.
    func select(_ selector: HandlerSelector) -> (name: String, handler: Handler)? {
        for requested in [selector.handler, selector.action] {
            if let requested, let handler = handlers[requested] { return (requested, handler) }
        }
        guard let fallback = handlers[Self.defaultName] else { return nil }
        return (Self.defaultName, fallback)
    }

    /// Whether a handler is registered under `name`.
    func has(_ name: String) -> Bool { handlers[name] != nil }
}

extension Refusal {
    /// A 400 whose reason names the field that failed to decode.
    static func invalidMessage(_ error: DecodingError) -> Refusal {
        func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            let keys = codingPath + (last.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
        }
        let reason: String
        switch error {
        case .keyNotFound(let key, let context):
            reason = "Invalid message: missing field '\(path(context.codingPath, key))'"
        case .valueNotFound(_, let context):
            reason = "Invalid message: field '\(path(context.codingPath))' is null"
        case .typeMismatch(let type, let context) where !context.codingPath.isEmpty:
            reason = "Invalid message: field '\(path(context.codingPath))' is not \(describe(type))"
        case .typeMismatch(let type, _):
            reason = "Invalid message: body is not \(describe(type))"
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            reason = "Invalid message: body is not valid JSON"
        case .dataCorrupted(let context):
            reason = "Invalid message: field '\(path(context.codingPath))' is invalid"
        @unknown default:
            reason = "Invalid message"
        }
        return .invalidMessage(reason, detail: "\(error)")
    }
}

private func describe(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: "a string"
    case is Bool.Type: "a boolean"
    case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type, is Double.Type, is Float.Type: "a number"
    case is [Any].Type: "an array"
    case is [String: Any].Type: "an object"
    default: "of type \(type)"
    }
}
