public import Foundation
public import NIOCore

/// Where streams live: every message published to a channel or a user, with its position, kept for
/// replay and history and, until it is delivered, as the outbox.
///
/// ``append(_:)`` assigns offsets atomically: concurrent appends to one stream, from any number of
/// instances sharing the store, get consecutive offsets with none missing and none twice. An append
/// inside a transaction that rolls back leaves nothing, its offset included. The built-in stores
/// implement it; the test kit's `StreamStoreConformance` checks any implementation.
public protocol StreamStore: Sendable {
    /// Appends `message` at the end of its stream. When its idempotency key is already in the
    /// API's streams, nothing is appended and the message that has it is answered.
    func append(_ message: NewStreamMessage) async throws -> Appended

    /// Up to `limit` messages of `stream` after `offset`, in offset order.
    func messages(in stream: StreamID, apiID: APIID, after offset: Int, limit: Int) async throws -> [StreamMessage]

    /// The last `limit` messages of `stream` before `offset` (all when `nil`), in offset order.
    func lastMessages(in stream: StreamID, apiID: APIID, before offset: Int?, limit: Int) async throws -> [StreamMessage]

    /// Where `stream` is: its epoch, last offset and oldest kept offset; `nil` when nothing was
    /// ever published to it.
    func head(of stream: StreamID, apiID: APIID) async throws -> StreamHead?

    /// Claims up to `limit` undelivered messages nobody holds a claim on (or whose claim ran out
    /// before `now`) until `until`, in stream and offset order, skipping a stream whose earlier
    /// message is still claimed by someone else (so one stream is delivered in order).
    func claimUndelivered(limit: Int, until: Date, at now: Date) async throws -> [StreamMessage]

    /// Holds these undelivered messages' claims until `until`: a fan-out that outlasts its claim
    /// keeps it, so no worker starts the same fan-out again meanwhile.
    func extendClaims(_ messages: [StreamMessage], until: Date) async throws

    /// Marks these messages delivered: they stay for history, out of the outbox.
    func markDelivered(_ messages: [StreamMessage]) async throws

    /// Marks `message` delivered without making its publisher wait: a store may batch the marks
    /// of many publishers into one write. A mark lost (the process stopped first) leaves the message
    /// in the outbox, delivered again once its claim runs out: at least once, as always.
    func markDeliveredSoon(_ message: StreamMessage) async

    /// Deletes delivered messages beyond `retention` (older, or more per stream). Never deletes an
    /// undelivered one. Returns how many it deleted.
    func pruneStreams(_ retention: StreamRetention, at now: Date) async throws -> Int

    /// Counts for metrics and the admin.
    func streamStatistics(at now: Date) async throws -> StreamStatistics
}

extension StreamStore {
    /// Marks at once, waiting for it; a failure leaves the message for the worker.
    public func markDeliveredSoon(_ message: StreamMessage) async {
        try? await markDelivered([message])
    }
}

/// A message to append: the app's JSON object, unstamped.
public struct NewStreamMessage: Sendable {
    public var apiID: APIID
    public var stream: StreamID
    /// The app's JSON object, as published.
    public var body: ByteBuffer
    /// A repeated publish with this key is a no-op answered with the first one's position.
    public var idempotencyKey: String?
    public var publishedAt: Date
    /// Until when the publisher itself is delivering it (no worker takes it before); `nil`: the
    /// delivery worker's at once (once committed).
    public var claimedUntil: Date?

    public init(apiID: APIID, stream: StreamID, body: ByteBuffer, idempotencyKey: String?, publishedAt: Date, claimedUntil: Date?) {
        self.apiID = apiID
        self.stream = stream
        self.body = body
        self.idempotencyKey = idempotencyKey
        self.publishedAt = publishedAt
        self.claimedUntil = claimedUntil
    }
}

/// What an append did: the message with its position, and whether it was there already (its
/// idempotency key had been used).
public struct Appended: Sendable {
    public var message: StreamMessage
    public var duplicate: Bool

    public init(message: StreamMessage, duplicate: Bool) {
        self.message = message
        self.duplicate = duplicate
    }
}

/// Where a stream is.
public struct StreamHead: Sendable, Hashable {
    public var epoch: String
    /// The last message's offset.
    public var lastOffset: Int
    /// The oldest kept message's offset (`lastOffset + 1` when none is kept).
    public var firstOffset: Int

    public init(epoch: String, lastOffset: Int, firstOffset: Int) {
        self.epoch = epoch
        self.lastOffset = lastOffset
        self.firstOffset = firstOffset
    }

    public var position: StreamPosition { StreamPosition(offset: lastOffset, epoch: epoch) }
}

/// How much of each stream is kept for replay and history: at most ``messages`` per stream, none
/// older than ``age``. Undelivered messages are always kept.
public struct StreamRetention: Sendable, Hashable {
    public var messages: Int
    public var age: Duration

    /// 1,000 messages per stream, for 3 hours: past API Gateway's 2-hour cut and its reconnect.
    public init(messages: Int = 1000, age: Duration = .seconds(3 * 3600)) {
        precondition(messages > 0 && age > .zero, "a retention keeps something")
        self.messages = messages
        self.age = age
    }
}

/// The streams' sizes, for `/metrics` and the admin.
public struct StreamStatistics: Sendable, Hashable {
    public var streams: Int
    /// Messages kept (history and outbox).
    public var messages: Int
    /// Messages not yet delivered: the outbox.
    public var undelivered: Int
    /// How long the oldest undelivered message has waited.
    public var oldestUndeliveredAge: Duration

    public init(streams: Int, messages: Int, undelivered: Int, oldestUndeliveredAge: Duration) {
        self.streams = streams
        self.messages = messages
        self.undelivered = undelivered
        self.oldestUndeliveredAge = oldestUndeliveredAge
    }
}
