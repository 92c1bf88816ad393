/// A message that could not be sent at all (as opposed to a recipient that could not be reached,
/// which a ``DeliveryReport`` counts).
public struct MessagingError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case payloadTooLarge(size: Int, limit: Int)
    }

    private let kind: Kind

    /// The payload is larger than API Gateway accepts.
    public static func payloadTooLarge(size: Int, limit: Int) -> MessagingError {
        MessagingError(kind: .payloadTooLarge(size: size, limit: limit))
    }

    /// Whether the payload was over API Gateway's limit.
    public var isPayloadTooLarge: Bool {
        if case .payloadTooLarge = kind { true } else { false }
    }

    public var description: String {
        switch kind {
        case .payloadTooLarge(let size, let limit): "payload of \(size) bytes exceeds API Gateway's limit of \(limit)"
        }
    }
}
