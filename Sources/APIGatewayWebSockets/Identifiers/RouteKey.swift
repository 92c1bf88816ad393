/// An API Gateway route key: `$connect`, `$disconnect`, `$default`, or a custom key such as
/// `sendmessage`.
///
/// Custom keys are what the API's route selection expression (by default
/// `$request.body.action`) must evaluate to for a message to reach that route. They are 1 to 128
/// printable ASCII characters and may not start with `$`; the three reserved keys are the static
/// members.
///
/// ```swift
/// let notifications = try RouteKey("notifications")
/// RouteKey.default.isReserved   // true
/// ```
public struct RouteKey: Hashable, Sendable {
    /// The key as API Gateway knows it.
    public let rawValue: String

    private init(reserved: String) { self.rawValue = reserved }

    /// Validates `rawValue` as a custom route key.
    /// - Throws: ``IdentifierError`` when it is empty, longer than 128 characters, starts with `$`,
    ///   or has a character outside printable ASCII.
    public init(_ rawValue: String) throws {
        switch rawValue {
        case "$connect": self = .connect
        case "$disconnect": self = .disconnect
        case "$default": self = .default
        default:
            try validateIdentifier(rawValue, kind: "route key", maxLength: 128, allowedDescription: "printable ASCII") {
                $0 > 0x20 && $0 < 0x7F
            }
            guard !rawValue.hasPrefix("$") else {
                throw IdentifierError(kind: "route key", value: rawValue, rule: "custom keys may not start with '$'")
            }
            self.rawValue = rawValue
        }
    }

    /// `$connect`: API Gateway calls it before the WebSocket handshake completes.
    public static let connect = RouteKey(reserved: "$connect")
    /// `$disconnect`: API Gateway calls it after the connection has closed.
    public static let disconnect = RouteKey(reserved: "$disconnect")
    /// `$default`: messages that match no other route.
    public static let `default` = RouteKey(reserved: "$default")

    /// Whether this is one of the three keys API Gateway reserves.
    public var isReserved: Bool { rawValue.hasPrefix("$") }

}

extension RouteKey: Identifier {}
