/// The id API Gateway gives one client connection, e.g. `L0SM9cOFvHcCIhw=`.
///
/// Valid ids are 1 to 128 characters of `A–Z a–z 0–9 _ = -`, the alphabet API Gateway uses. The
/// value is validated once, when it is created from a request header or a stored row.
///
/// ```swift
/// let id = try ConnectionID("L0SM9cOFvHcCIhw=")
/// ```
public struct ConnectionID: Hashable, Sendable {
    /// The id as API Gateway wrote it.
    public let rawValue: String

    /// Validates `rawValue` as a connection id.
    /// - Throws: ``IdentifierError`` when it is empty, longer than 128 characters, or has a
    ///   character outside `A–Z a–z 0–9 _ = -`.
    public init(_ rawValue: String) throws {
        try validateIdentifier(
            rawValue, kind: "connection id", maxLength: 128, allowedDescription: "A-Z a-z 0-9 _ = -"
        ) { isASCIIAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "-") }
        self.rawValue = rawValue
    }

}

extension ConnectionID: Identifier {}
