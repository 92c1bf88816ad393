/// The id of an API Gateway WebSocket API, e.g. `abc123defg`.
///
/// API Gateway sends it on every integration request as `X-Amzn-Apigateway-Api-Id`. Valid ids
/// are 1 to 64 characters of `A–Z a–z 0–9` (AWS issues 10 lowercase ones; emulators use others).
public struct APIID: Hashable, Sendable {
    /// The id as API Gateway wrote it.
    public let rawValue: String

    /// Validates `rawValue` as an API id.
    /// - Throws: ``IdentifierError`` when it is empty, longer than 64 characters, or not alphanumeric.
    public init(_ rawValue: String) throws {
        try validateIdentifier(rawValue, kind: "API id", maxLength: 64, allowedDescription: "A-Z a-z 0-9") {
            isASCIIAlphanumeric($0)
        }
        self.rawValue = rawValue
    }

}

extension APIID: Identifier {}
