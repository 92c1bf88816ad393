import Foundation
package import NIOCore

/// A single-pass JSON reader that checks a document is one object and picks out the string
/// values of some top-level keys, skipping everything else: the core's handler selection and the
/// local gateway's route selection read a message with it, without decoding the whole body.
package struct JSONScanner {
    private let bytes: ByteBufferView
    private var index: ByteBufferView.Index

    package init(_ bytes: ByteBufferView) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    /// The string values of `wanted` keys (of a repeated key, the first), or `nil` when the
    /// document is not a well-formed JSON object.
    package mutating func topLevelStrings(_ wanted: Set<String>) -> [String: String]? {
        scanTopLevel(wanted)?.strings
    }

    /// Which of `wanted` the object has at its top level, whatever their values, or `nil` when
    /// the document is not a well-formed JSON object.
    package mutating func topLevelKeys(_ wanted: Set<String>) -> Set<String>? {
        scanTopLevel(wanted)?.present
    }

    /// Both: the string values of `wanted` keys, and which of them are present whatever their
    /// values; `nil` when the document is not a well-formed JSON object.
    package mutating func scanTopLevel(_ wanted: Set<String>) -> (strings: [String: String], present: Set<String>)? {
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

    package static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

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
