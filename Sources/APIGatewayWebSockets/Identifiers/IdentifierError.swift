/// A string that is not a valid identifier of the kind it was given as.
///
/// Identifiers (``ConnectionID``, ``ChannelName``, ``RouteKey``, ``APIID``) validate once, when
/// they are created at the edge, so nothing deeper in the framework re-checks strings.
public struct IdentifierError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which kind of identifier was being created, e.g. `connection id`.
    public let kind: String
    /// The rejected value, truncated to 64 characters for logs.
    public let value: String
    /// Why it was rejected.
    public let rule: String

    init(kind: String, value: String, rule: String) {
        self.kind = kind
        self.value = value.count > 64 ? String(value.prefix(64)) + "…" : value
        self.rule = rule
    }

    public var description: String { "invalid \(kind) '\(value)': \(rule)" }
}

/// What every identifier shares: a validated raw string, compared, printed and coded as that
/// string; decoding validates as ``init(_:)`` does.
public protocol Identifier: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    var rawValue: String { get }
    init(_ rawValue: String) throws
}

extension Identifier {
    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(raw) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Checks `value` is 1...`maxLength` bytes, each in `allowed`.
@inline(__always)
func validateIdentifier(
    _ value: String,
    kind: String,
    maxLength: Int,
    allowedDescription: String,
    allowed: (UInt8) -> Bool
) throws(IdentifierError) {
    let utf8 = value.utf8
    guard !utf8.isEmpty, utf8.count <= maxLength else {
        throw IdentifierError(kind: kind, value: value, rule: "must be 1 to \(maxLength) characters")
    }
    for byte in utf8 where !allowed(byte) {
        throw IdentifierError(kind: kind, value: value, rule: "may only contain \(allowedDescription)")
    }
}

@inline(__always)
func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
}
