import APIGatewayAWS
public import Foundation
public import NIOCore

/// A decoded JSON value, for route selection and body mappings.
enum JSONValue: Decodable, Sendable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Strings as they are; numbers, booleans, arrays and objects as their text.
    var text: String {
        switch self {
        case .string(let string): string
        case .number(let number): number.rounded() == number && abs(number) < 9e15 ? String(Int64(number)) : String(number)
        case .bool(let bool): bool ? "true" : "false"
        case .null: ""
        case .array(let items): "[" + items.map(\.text).joined(separator: ", ") + "]"
        case .object(let members):
            "{" + members.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.text)" }.joined(separator: ", ") + "}"
        }
    }

    /// Follows a dotted path (`a.b.c`, `a[0]`) through objects and arrays.
    func value(at path: String) -> JSONValue? {
        var current: JSONValue? = self
        for component in path.split(separator: ".") {
            var name = Substring(component)
            var indexes: [Int] = []
            while name.hasSuffix("]"), let open = name.lastIndex(of: "["),
                let index = Int(name[name.index(after: open)..<name.index(before: name.endIndex)])
            {
                indexes.insert(index, at: 0)
                name = name[..<open]
            }
            if !name.isEmpty {
                guard case .object(let members)? = current else { return nil }
                current = members[String(name)]
            }
            for index in indexes {
                guard case .array(let items)? = current, items.indices.contains(index) else { return nil }
                current = items[index]
            }
        }
        if case .null? = current { return nil }
        return current
    }
}

/// Evaluates a route selection expression against a message body, as API Gateway does:
/// `$request.body.a.b` (a JSONPath into the body) or a template of `${request.body.x}` parts and
/// literal text. Unresolved parts become `""`; values are stringified. A body that is not a JSON
/// object, or a bare path that resolves to nothing, selects nothing (→ `$default`).
///
/// The usual expression, a top-level key (`$request.body.action`) whose value is a string, is read
/// in one pass over the body without decoding it; anything else decodes the body.
public enum RouteSelection {
    public static func evaluate(_ expression: String, body: Data) -> String? {
        evaluate(expression, body: ByteBuffer(bytes: body))
    }

    public static func evaluate(_ expression: String, body: ByteBuffer) -> String? {
        if let key = topLevelKey(of: expression) {
            var scanner = JSONScanner(body.readableBytesView)
            guard let (strings, present) = scanner.scanTopLevel([key]) else { return nil }  // not a JSON object
            if let value = strings[key] { return value }
            if !present.contains(key) { return nil }
            // A number, boolean, array or object: stringified as API Gateway does, below.
        }
        return evaluateDecoding(expression, body: Data(body.readableBytesView))
    }

    /// `action` for `$request.body.action`: a key at the top level, no path.
    private static func topLevelKey(of expression: String) -> String? {
        guard expression.hasPrefix("$request.body.") else { return nil }
        let key = expression.dropFirst("$request.body.".count)
        guard !key.isEmpty, !key.contains("."), !key.contains("[") else { return nil }
        return String(key)
    }

    private static func evaluateDecoding(_ expression: String, body: Data) -> String? {
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: body), case .object = json else { return nil }
        if expression.hasPrefix("$request.body.") {
            return json.value(at: String(expression.dropFirst("$request.body.".count)))?.text
        }
        if expression.hasPrefix("\\$") { return String(expression.dropFirst()) }  // an escaped literal
        guard expression.contains("${") else { return expression }  // a static key
        var result = ""
        var rest = Substring(expression)
        while let open = rest.range(of: "${") {
            result += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { return nil }
            let variable = rest[open.upperBound..<close]
            if variable.hasPrefix("request.body.") {
                result += json.value(at: String(variable.dropFirst("request.body.".count)))?.text ?? ""
            }
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }
}
