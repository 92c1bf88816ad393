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
    /// - Parameter requirement: who may send it, beyond the controller's ``WebSocketController/requirement``.
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
    public mutating func onRaw(
        _ name: String, requires requirement: Requirement? = nil,
        _ handler: @escaping @Sendable (ByteBuffer, MessageContext) async throws -> Void
    ) {
        requirements[name] = requirement
        handlers[name] = handler
    }

    /// Registers the `default` handler for messages that decode as `Message`.
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

/// The `handler`, `action` and `id` keys of a JSON object body, when they are strings (an `id`
/// of at most 128 characters: a longer one is no id).
///
/// Read by a scanner that walks the body once and decodes only those two values: the handler
/// then decodes the body, so each message is decoded once. A body that is not strict JSON falls
/// back to `JSONDecoder`'s reading of it (it is more lenient), so selection is what it was.
struct HandlerSelector: Error {
    var handler: String?
    var action: String?
    var id: String?

    init(_ body: ByteBuffer) {
        var scanner = JSONScanner(body.readableBytesView)
        if let keys = scanner.topLevelStrings(["handler", "action", "id"]) {
            handler = keys["handler"]
            action = keys["action"]
            id = keys["id"].flatMap { $0.count <= 128 ? $0 : nil }
        } else if body.readableBytesView.first(where: { !JSONScanner.isWhitespace($0) }) == UInt8(ascii: "{"),
            let decoded = try? JSONDecoder().decode(Lenient.self, from: body)
        {
            // Not strict JSON (a trailing comma, a leading zero): Foundation's decoder, which the
            // handler decodes with too, may still read it, so it decides, as it always did.
            handler = decoded.handler
            action = decoded.action
            id = decoded.id.flatMap { $0.count <= 128 ? $0 : nil }
        }
    }

    /// The three keys as `JSONDecoder` reads them; non-strings name nothing.
    private struct Lenient: Decodable {
        var handler: String?
        var action: String?
        var id: String?
        enum Keys: String, CodingKey { case handler, action, id }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            handler = try? container.decodeIfPresent(String.self, forKey: .handler)
            action = try? container.decodeIfPresent(String.self, forKey: .action)
            id = try? container.decodeIfPresent(String.self, forKey: .id)
        }
    }
}

/// A single-pass JSON reader that checks a document is one object and picks out the string
/// values of some top-level keys, skipping everything else.
struct JSONScanner {
    private let bytes: ByteBufferView
    private var index: ByteBufferView.Index

    init(_ bytes: ByteBufferView) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    /// The string values of `wanted` keys (of a repeated key, the first), or `nil` when the
    /// document is not a well-formed JSON object.
    mutating func topLevelStrings(_ wanted: Set<String>) -> [String: String]? {
        scanTopLevel(wanted)?.strings
    }

    /// Which of `wanted` the object has at its top level, whatever their values, or `nil` when
    /// the document is not a well-formed JSON object.
    mutating func topLevelKeys(_ wanted: Set<String>) -> Set<String>? {
        scanTopLevel(wanted)?.present
    }

    private mutating func scanTopLevel(_ wanted: Set<String>) -> (strings: [String: String], present: Set<String>)? {
        var found: [String: String] = [:]
        var seen: Set<String> = []
        skipWhitespace()
        guard take(UInt8(ascii: "{")) else { return nil }
        skipWhitespace()
        if !take(UInt8(ascii: "}")) {
            repeat {
                skipWhitespace()
                guard let key = string() else { return nil }
                skipWhitespace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipWhitespace()
                // A repeated key: the first one counts, as Foundation's decoder reads it.
                if wanted.contains(key), seen.insert(key).inserted, peek == UInt8(ascii: "\"") {
                    guard let value = string() else { return nil }
                    found[key] = value
                } else {
                    guard skipValue() else { return nil }
                }
                skipWhitespace()
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "}")) else { return nil }
        }
        skipWhitespace()
        return index == bytes.endIndex ? (found, seen) : nil
    }

    private var peek: UInt8? { index == bytes.endIndex ? nil : bytes[index] }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index = bytes.index(after: index)
        return true
    }

    static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    private mutating func skipWhitespace() {
        while let byte = peek, Self.isWhitespace(byte) { index = bytes.index(after: index) }
    }

    /// A string at the cursor, decoded; escapes are rare in keys and names, and go through
    /// `JSONDecoder` for exactness.
    private mutating func string() -> String? {
        let start = index
        guard take(UInt8(ascii: "\"")) else { return nil }
        var escaped = false
        var ascii = true
        while let byte = peek {
            index = bytes.index(after: index)
            switch byte {
            case UInt8(ascii: "\""):
                let raw = bytes[start..<index]
                if escaped { return try? JSONDecoder().decode(String.self, from: Data(raw)) }
                let content = raw.dropFirst().dropLast()
                // Bytes past ASCII must be UTF-8, or the document is not JSON.
                return ascii ? String(decoding: content, as: UTF8.self) : String(validating: content, as: UTF8.self)
            case UInt8(ascii: "\\"):
                escaped = true
                guard peek != nil else { return nil }
                index = bytes.index(after: index)
            case 0x00..<0x20:
                return nil  // control characters must be escaped
            case 0x80...:
                ascii = false
            default:
                continue
            }
        }
        return nil
    }

    /// How deep arrays and objects may nest, as Foundation's decoder allows: deeper is not read
    /// (a body of 100,000 `[` would otherwise recurse that deep).
    static let maximumDepth = 512
    private var depth = 0

    /// Skips one value of any kind; `false` when it is not well-formed or nests too deep.
    private mutating func skipValue() -> Bool {
        switch peek {
        case UInt8(ascii: "\""):
            return string() != nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = peek == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            let isObject = close == UInt8(ascii: "}")
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maximumDepth else { return false }
            index = bytes.index(after: index)
            skipWhitespace()
            if take(close) { return true }
            repeat {
                skipWhitespace()
                if isObject {
                    guard string() != nil else { return false }
                    skipWhitespace()
                    guard take(UInt8(ascii: ":")) else { return false }
                    skipWhitespace()
                }
                guard skipValue() else { return false }
                skipWhitespace()
            } while take(UInt8(ascii: ","))
            return take(close)
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        case .some(let byte) where byte == UInt8(ascii: "-") || (byte >= 0x30 && byte <= 0x39):
            return number()
        default:
            return false
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        for byte in UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount) {
            guard take(byte) else { return false }
        }
        return true
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func number() -> Bool {
        func digits(_ scanner: inout JSONScanner) -> Int {
            var count = 0
            while let byte = scanner.peek, byte >= 0x30 && byte <= 0x39 {
                scanner.index = scanner.bytes.index(after: scanner.index)
                count += 1
            }
            return count
        }
        _ = take(UInt8(ascii: "-"))
        if take(UInt8(ascii: "0")) {
            if let byte = peek, byte >= 0x30 && byte <= 0x39 { return false }
        } else if digits(&self) == 0 {
            return false
        }
        if take(UInt8(ascii: ".")), digits(&self) == 0 { return false }
        if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
            _ = take(UInt8(ascii: "+")) || take(UInt8(ascii: "-"))
            if digits(&self) == 0 { return false }
        }
        return true
    }
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
