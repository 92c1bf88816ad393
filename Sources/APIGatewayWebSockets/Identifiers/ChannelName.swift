/// The name of a channel: a group of connections that receive the same multicast.
///
/// Valid names are 1 to 128 characters of `A–Z a–z 0–9 _ -`. A client picks its channel with the
/// `?channel=` query parameter when it connects; a gateway can name a default channel; a connect
/// hook can put the connection into another one.
///
/// ```swift
/// let lobby = try ChannelName("lobby")
/// ```
public struct ChannelName: Hashable, Sendable {
    /// The channel's name.
    public let rawValue: String

    /// Validates `rawValue` as a channel name.
    /// - Throws: ``IdentifierError`` when it is empty, longer than 128 characters, or has a
    ///   character outside `A–Z a–z 0–9 _ -`.
    public init(_ rawValue: String) throws {
        try validateIdentifier(
            rawValue, kind: "channel name", maxLength: 128, allowedDescription: "A-Z a-z 0-9 _ -"
        ) { isASCIIAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
        self.rawValue = rawValue
    }

}

extension ChannelName: Identifier {}
