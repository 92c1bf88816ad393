import APIGatewayAWS
public import Foundation
public import NIOCore
import NIOFoundationCompat

/// One message of a stream, as kept: the app's JSON object and its position.
public struct StreamMessage: Sendable, Hashable {
    public var apiID: APIID
    public var stream: StreamID
    public var position: StreamPosition
    /// The app's JSON object, as published (without its position).
    public var body: ByteBuffer
    public var publishedAt: Date
    public var idempotencyKey: String?
    /// Whether the delivery (inline or the worker's) has finished.
    public var delivered: Bool
    /// How many times a delivery worker has claimed it: more than one is a redelivery.
    public var attempts: Int

    public init(
        apiID: APIID, stream: StreamID, position: StreamPosition, body: ByteBuffer, publishedAt: Date, idempotencyKey: String? = nil,
        delivered: Bool = false, attempts: Int = 0
    ) {
        self.apiID = apiID
        self.stream = stream
        self.position = position
        self.body = body
        self.publishedAt = publishedAt
        self.idempotencyKey = idempotencyKey
        self.delivered = delivered
        self.attempts = attempts
    }

    /// What clients receive: the app's object with the stream's keys first, `channel` (or `user`),
    /// `offset` and `epoch`: `{"channel":"lobby","offset":12,"epoch":"…","type":"message",…}`. Keys of
    /// those names in the app's object are replaced; a user's stream message has no `channel`.
    public func stamped() throws -> Payload {
        try Payload(bytes: Self.stamp(body, stream: stream, position: position))
    }

    /// The stream's keys, written before the app's. No encoder: a channel name and an epoch need no
    /// escaping, a user id is escaped here.
    static func stamp(_ body: ByteBuffer, stream: StreamID, position: StreamPosition) throws -> ByteBuffer {
        let (name, value) = stream.stampedKey
        var view = body.readableBytesView
        var scanner = JSONScanner(view)
        guard let ours = scanner.topLevelKeys(stream.reservedKeys) else { throw StreamError.notAnObject }
        var stripped = ByteBuffer()
        if !ours.isEmpty {
            // Rare: the app's object has a key of ours. It is re-encoded without them.
            guard var object = try JSONSerialization.jsonObject(with: Data(view)) as? [String: Any] else { throw StreamError.notAnObject }
            for key in ours { object.removeValue(forKey: key) }
            stripped = ByteBuffer(data: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            view = stripped.readableBytesView
        }
        let open = view.firstIndex(where: { !JSONScanner.isWhitespace($0) })!
        let afterOpen = view.index(after: open)
        let isEmpty = view[afterOpen...].first(where: { !JSONScanner.isWhitespace($0) }) == UInt8(ascii: "}")
        var stamped = ByteBuffer()
        stamped.reserveCapacity(view.count + value.utf8.count + position.epoch.utf8.count + 56)
        stamped.writeString("{\"")
        stamped.writeString(name)
        stamped.writeString("\":")
        writeJSONString(value, into: &stamped)
        stamped.writeString(",\"offset\":")
        stamped.writeString(String(position.offset))
        stamped.writeString(",\"epoch\":")
        writeJSONString(position.epoch, into: &stamped)
        if !isEmpty { stamped.writeString(",") }
        stamped.writeBytes(view[afterOpen...])
        return stamped
    }

    /// `string` as a JSON string literal.
    static func writeJSONString(_ string: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        if string.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            buffer.writeString(string)
        } else {
            for byte in string.utf8 {
                switch byte {
                case UInt8(ascii: "\""): buffer.writeString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeString("\\\\")
                case 0..<0x20: buffer.writeString("\\u00" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16))
                default: buffer.writeInteger(byte)
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// Checks that `payload` can go into `stream`: a JSON object that, with the stream's keys added
    /// (the longest offset and epoch there can be), still fits in one `@connections` post, so a
    /// message accepted into the outbox can always be delivered.
    /// - Throws: ``StreamError/notAnObject``; ``MessagingError/payloadTooLarge(size:limit:)``.
    package static func check(_ payload: Payload, for stream: StreamID) throws {
        var scanner = JSONScanner(payload.bytes.readableBytesView)
        guard let ours = scanner.topLevelKeys(stream.reservedKeys) else { throw StreamError.notAnObject }
        guard ours.isEmpty else {
            // Keys of ours in it: stamped in full, as it will be.
            let widest = StreamPosition(offset: Int.max, epoch: String(repeating: "z", count: 16))
            _ = try Payload(bytes: stamp(payload.bytes, stream: stream, position: widest))
            return
        }
        // `{"channel":"…","offset":9223372036854775807,"epoch":"<16>",` before the app's keys.
        var key = ByteBuffer()
        writeJSONString(stream.stampedKey.value, into: &key)
        let size = payload.bytes.readableBytes + stream.stampedKey.name.utf8.count + key.readableBytes + 60
        guard size <= Payload.maxSize else { throw MessagingError.payloadTooLarge(size: size, limit: Payload.maxSize) }
    }
}

extension StreamID {
    /// The key and value a stamped message names its stream with.
    var stampedKey: (name: String, value: String) {
        switch kind {
        case .channel(let channel): ("channel", channel.rawValue)
        case .user(let user): ("user", user)
        }
    }

    /// The keys of the app's object that stamping replaces (a user's stream has no `channel`: a
    /// client tells the streams apart by it).
    var reservedKeys: Set<String> {
        switch kind {
        case .channel: ["channel", "offset", "epoch"]
        case .user: ["user", "channel", "offset", "epoch"]
        }
    }
}
