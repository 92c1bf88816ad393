import APIGatewayAWS
public import Foundation
public import NIOCore
import NIOFoundationCompat

/// The bytes of one message to clients, encoded and size-checked once before any request.
///
/// API Gateway refuses `@connections` posts over 128 KiB; a payload larger than that cannot be
/// created, so a fan-out never starts with one.
///
/// ```swift
/// let payload = try Payload(json: ["text": "hello"])
/// ```
public struct Payload: Sendable, Hashable {
    /// The largest payload API Gateway's `@connections` accepts: 131,072 bytes.
    public static let maxSize = 131_072

    /// A `JSONEncoder` with `.sortedKeys`.
    public static var sortedKeysEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    public let bytes: ByteBuffer
    /// The hex SHA-256 of ``bytes``, computed once: every signed post of a fan-out needs it.
    public let sha256: String

    /// Wraps raw bytes.
    /// - Throws: ``MessagingError/payloadTooLarge(size:limit:)`` over ``maxSize`` bytes.
    public init(bytes: ByteBuffer) throws(MessagingError) {
        guard bytes.readableBytes <= Self.maxSize else {
            throw .payloadTooLarge(size: bytes.readableBytes, limit: Self.maxSize)
        }
        self.bytes = bytes
        self.sha256 = SigV4Signer.hexSHA256(bytes.readableBytesView)
    }

    /// UTF-8 text, sent to clients as a text frame.
    public init(text: String) throws(MessagingError) {
        try self.init(bytes: ByteBuffer(string: text))
    }

    /// The JSON encoding of `value`; keys sorted by default, so the same value is always the
    /// same bytes on the wire.
    /// - Throws: the encoder's error, or ``MessagingError/payloadTooLarge(size:limit:)``.
    public init(json value: some Encodable, encoder: JSONEncoder = Payload.sortedKeysEncoder) throws {
        try self.init(bytes: ByteBuffer(data: try encoder.encode(value)))
    }

    /// This payload answering the request `id`: a JSON object gains `"id": id` as its first key;
    /// an object with an `id` of its own is carried whole as `{"id": id, "reply": object}` (two
    /// ids in one object would be read as one); anything else is left as it is (it has nowhere to
    /// carry the id).
    /// - Throws: ``MessagingError/payloadTooLarge(size:limit:)`` when the id takes it over ``maxSize``.
    public func answering(_ id: String) throws(MessagingError) -> Payload {
        let view = bytes.readableBytesView
        guard let open = view.firstIndex(where: { !JSONScanner.isWhitespace($0) }), view[open] == UInt8(ascii: "{") else { return self }
        var scanner = JSONScanner(view)
        let ownID = scanner.topLevelKeys(["id"])?.contains("id") ?? false
        var answered = ByteBuffer()
        answered.reserveCapacity(bytes.readableBytes + id.utf8.count + 24)
        answered.writeString("{\"id\":")
        answered.writeBytes((try? JSONEncoder().encode(id)) ?? Data("\"\"".utf8))
        if ownID {
            answered.writeString(",\"reply\":")
            answered.writeBytes(view[open...])
            answered.writeString("}")
        } else {
            let afterOpen = view.index(after: open)
            let isEmpty = view[afterOpen...].first(where: { !JSONScanner.isWhitespace($0) }) == UInt8(ascii: "}")
            if !isEmpty { answered.writeString(",") }
            answered.writeBytes(view[afterOpen...])
        }
        return try Payload(bytes: answered)
    }
}
