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

    /// The stream's keys, written before the app's.
    static func stamp(_ body: ByteBuffer, stream: StreamID, position: StreamPosition) throws -> ByteBuffer {
        // A user's stream has no `channel`: a client tells the streams apart by it.
        let (name, value, reserved): (String, String, Set<String>) =
            switch stream.kind {
            case .channel(let channel): ("channel", channel.rawValue, ["channel", "offset", "epoch"])
            case .user(let user): ("user", user, ["user", "channel", "offset", "epoch"])
            }
        var view = body.readableBytesView
        var scanner = JSONScanner(view)
        guard let ours = scanner.topLevelKeys(reserved) else { throw StreamError.notAnObject }
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
        stamped.reserveCapacity(view.count + name.utf8.count + value.utf8.count + position.epoch.utf8.count + 48)
        stamped.writeString("{\"")
        stamped.writeString(name)
        stamped.writeString("\":")
        stamped.writeBytes((try? JSONEncoder().encode(value)) ?? Data("\"\"".utf8))
        stamped.writeString(",\"offset\":")
        stamped.writeString(String(position.offset))
        stamped.writeString(",\"epoch\":")
        stamped.writeBytes((try? JSONEncoder().encode(position.epoch)) ?? Data("\"\"".utf8))
        if !isEmpty { stamped.writeString(",") }
        stamped.writeBytes(view[afterOpen...])
        return stamped
    }

    /// Checks that `payload` can go into `stream`: a JSON object that, with the stream's keys added
    /// (the longest offset and epoch there can be), still fits in one `@connections` post, so a
    /// message accepted into the outbox can always be delivered.
    /// - Throws: ``StreamError/notAnObject``; ``MessagingError/payloadTooLarge(size:limit:)``.
    package static func check(_ payload: Payload, for stream: StreamID) throws {
        let widest = StreamPosition(offset: Int.max, epoch: String(repeating: "z", count: 16))
        do {
            _ = try Payload(bytes: stamp(payload.bytes, stream: stream, position: widest))
        } catch let error as MessagingError {
            throw error
        } catch {
            throw StreamError.notAnObject
        }
    }
}
