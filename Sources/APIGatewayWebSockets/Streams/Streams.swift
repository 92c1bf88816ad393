import APIGatewayAWS
import Foundation
import Logging
import Metrics
import NIOCore
import Synchronization

/// Publishing into streams, replaying them and reading their history: what ``MessageContext``,
/// the built-in `join`/`history`/`resume` handlers and the ``DeliveryWorker`` use, and what an app
/// uses outside an event.
///
/// A publish appends the message (its offset assigned by the store), delivers it at once with its
/// position, and marks it delivered; should the process die in between, the message stays in the
/// outbox and a ``DeliveryWorker`` (of any instance) delivers it once the claim runs out. Delivery is
/// at least once; a client that keeps the last offset it saw drops a message it has already had.
public struct Streams: Sendable {
    public let configuration: StreamConfiguration
    public let store: any StreamStore
    let messenger: Messenger
    let gateways: any GatewayDirectory
    let now: @Sendable () -> Date
    private let counters = (
        published: Counter(label: "apigw_stream_published_total"),
        duplicates: Counter(label: "apigw_stream_duplicates_total"),
        byPublisher: Counter(label: "apigw_stream_deliveries_total", dimensions: [("by", "publisher")]),
        byWorker: Counter(label: "apigw_stream_deliveries_total", dimensions: [("by", "worker")]),
        redeliveries: Counter(label: "apigw_stream_redeliveries_total"),
        replayed: Counter(label: "apigw_stream_replayed_total")
    )

    init(
        configuration: StreamConfiguration, store: any StreamStore, messenger: Messenger, gateways: any GatewayDirectory,
        now: @escaping @Sendable () -> Date
    ) {
        self.configuration = configuration
        self.store = store
        self.messenger = messenger
        self.gateways = gateways
        self.now = now
    }

    var logger: Logger { messenger.logger }

    /// Reads the streams' sizes from the store and records them as gauges: `apigw_streams`,
    /// `apigw_stream_messages` (the history), `apigw_stream_outbox_depth` and
    /// `apigw_stream_outbox_oldest_seconds`. The delivery worker does at each prune; a metrics
    /// endpoint may at each scrape. Every instance reads the same store: aggregate with `max()`.
    @discardableResult
    public func reportStatistics() async throws -> StreamStatistics {
        let statistics = try await store.streamStatistics(at: now())
        Gauge(label: "apigw_streams").record(statistics.streams)
        Gauge(label: "apigw_stream_messages").record(statistics.messages)
        Gauge(label: "apigw_stream_outbox_depth").record(statistics.undelivered)
        Gauge(label: "apigw_stream_outbox_oldest_seconds").record(statistics.oldestUndeliveredAge.timeInterval)
        return statistics
    }

    // MARK: Publishing

    /// Appends `payload` (a JSON object) to `stream` and delivers it with its position. A repeated
    /// `idempotencyKey` appends and delivers nothing: the first publish's position is answered.
    /// - Throws: ``StreamError`` for a payload that is not a JSON object, `MessagingError` for one
    ///   that would not fit in a post with its position; the store's errors. A message appended and
    ///   then not delivered (a failed read of the audience) is delivered by the worker.
    public func publish(_ payload: Payload, to stream: StreamID, on gateway: GatewayRecord, idempotencyKey: String? = nil)
        async throws -> Publication
    {
        try StreamMessage.check(payload, for: stream)
        let date = now()
        let appended = try await store.append(
            NewStreamMessage(
                apiID: gateway.apiID, stream: stream, body: payload.bytes, idempotencyKey: idempotencyKey, publishedAt: date,
                claimedUntil: date.addingTimeInterval(configuration.claimTimeout.timeInterval)))
        guard !appended.duplicate else {
            counters.duplicates.increment()
            return Publication(position: appended.message.position, duplicate: true, report: nil)
        }
        counters.published.increment()
        let report = try await deliver(appended.message, on: gateway, byPublisher: true)
        counters.byPublisher.increment()
        return Publication(position: appended.message.position, duplicate: false, report: report)
    }

    /// Posts `message` to its audience and marks it delivered (a publisher's mark batched with
    /// others', not waited for; a worker's, waited for). A fan-out that outlasts a third of the
    /// claim renews the claim as it goes, so no worker starts the same fan-out meanwhile.
    private func deliver(_ message: StreamMessage, on gateway: GatewayRecord, byPublisher: Bool = false) async throws -> DeliveryReport {
        let claim = configuration.claimTimeout
        let renewed = Mutex(ContinuousClock.now)
        let report = try await messenger.send(try message.stamped(), to: message.stream.audience, on: gateway) { [store, now] in
            let due = renewed.withLock { last in
                guard last.duration(to: .now) >= claim / 3 else { return false }
                last = .now
                return true
            }
            if due { try await store.extendClaims([message], until: now().addingTimeInterval(claim.timeInterval)) }
        }
        if byPublisher { await store.markDeliveredSoon(message) } else { try await store.markDelivered([message]) }
        return report
    }

    /// Delivers up to `limit` messages of the outbox (committed, undelivered, unclaimed or whose
    /// claim ran out), in order per stream: what the ``DeliveryWorker`` repeats. Returns how many
    /// it delivered.
    @discardableResult
    public func deliverPending(limit: Int = 100) async throws -> Int {
        let date = now()
        let claimed = try await store.claimUndelivered(
            limit: limit, until: date.addingTimeInterval(configuration.claimTimeout.timeInterval), at: date)
        guard !claimed.isEmpty else { return 0 }
        // What the batch has yet to deliver keeps its claims while it is delivered, however long
        // one post takes, so no other worker takes them meanwhile.
        let progress = BatchProgress()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await keepClaims(of: claimed, from: progress) }
            defer { group.cancelAll() }
            var delivered = 0
            for (index, message) in claimed.enumerated() {
                progress.next.withLock { $0 = index }
                if try await deliverClaimed(message) { delivered += 1 }
            }
            return delivered
        }
    }

    /// How far a batch's delivery has come: the index of the message being delivered.
    private final class BatchProgress: Sendable { let next = Mutex(0) }

    /// Renews the claims of what the batch has yet to deliver every third of the claim until
    /// cancelled. A renewal that fails is logged: the delivery goes on, at worst twice.
    private func keepClaims(of claimed: [StreamMessage], from progress: BatchProgress) async {
        let claim = configuration.claimTimeout
        while (try? await Task.sleep(for: claim / 3)) != nil {
            let rest = Array(claimed[progress.next.withLock { $0 }...])
            do {
                try await store.extendClaims(rest, until: now().addingTimeInterval(claim.timeInterval))
            } catch {
                logger.warning("stream claims could not be renewed", metadata: ["apigw.error": "\(error)"])
            }
        }
    }

    /// Delivers one claimed message of the outbox; `false` when it was set aside or its API is gone.
    private func deliverClaimed(_ message: StreamMessage) async throws -> Bool {
        if message.attempts > 1 { counters.redeliveries.increment() }
        guard let gateway = try await gateways.gateway(message.apiID) else {
            // The API is no longer registered: nobody can hear it. Kept for history, out of the outbox.
            logger.warning(
                "stream message for an API that is not registered", metadata: ["apigw.api.id": "\(message.apiID)", "apigw.stream": "\(message.stream)"])
            try await store.markDelivered([message])
            return false
        }
        let report: DeliveryReport
        do {
            report = try await deliver(message, on: gateway)
        } catch let error as StreamError {
            try await setAside(message, error)
            return false
        } catch let error as MessagingError {
            try await setAside(message, error)
            return false
        }
        counters.byWorker.increment()
        logger.debug(
            "stream message delivered",
            metadata: ["apigw.stream": "\(message.stream)", "apigw.offset": "\(message.position.offset)", "apigw.report": "\(report)"])
        return true
    }

    /// A message that can never be posted (stored before the size check, or by another writer):
    /// out of the outbox, so the rest of it is not stuck behind it; kept for the record.
    private func setAside(_ message: StreamMessage, _ error: any Error) async throws {
        logger.error(
            "stream message cannot be delivered; set aside",
            metadata: ["apigw.stream": "\(message.stream)", "apigw.offset": "\(message.position.offset)", "apigw.error": "\(error)"])
        try await store.markDelivered([message])
    }

    // MARK: Reading

    /// Where `stream` is now; `nil` when nothing was ever published to it.
    public func head(of stream: StreamID, apiID: APIID) async throws -> StreamHead? {
        try await store.head(of: stream, apiID: apiID)
    }

    /// Where `stream` is now, as clients are told: ``StreamPosition/beforeTheFirst`` when nothing
    /// was ever published to it.
    public func position(of stream: StreamID, apiID: APIID) async throws -> StreamPosition {
        try await store.head(of: stream, apiID: apiID)?.position ?? .beforeTheFirst
    }

    /// The last `limit` (at most ``StreamConfiguration/maximumHistory``) messages of `stream` before
    /// offset `before`, in offset order.
    public func history(of stream: StreamID, apiID: APIID, before: Int? = nil, limit: Int) async throws -> [StreamMessage] {
        try await store.lastMessages(in: stream, apiID: apiID, before: before, limit: max(0, min(limit, configuration.maximumHistory)))
    }

    /// Delivers to `connection` every message of `stream` after `since`, in order, and says whether
    /// that was all it missed. Nothing is delivered when it was not (the epoch changed, the history no
    /// longer reaches back, or more than ``StreamConfiguration/maximumReplay`` were missed): the
    /// client learns the current position and that it has a gap.
    public func replay(_ stream: StreamID, since: StreamPosition, to connection: ConnectionID, on gateway: GatewayRecord) async throws
        -> Recovery
    {
        guard let head = try await store.head(of: stream, apiID: gateway.apiID) else {
            return Recovery(recovered: since.offset == 0, position: .beforeTheFirst, replayed: 0)
        }
        let missed = head.lastOffset - since.offset
        // Offset 0 of no epoch: the client joined before the stream had a message, so it missed them all.
        let sameHistory = since.epoch == head.epoch || since == .beforeTheFirst
        guard sameHistory, missed >= 0, since.offset + 1 >= head.firstOffset || missed == 0,
            missed <= configuration.maximumReplay
        else { return Recovery(recovered: false, position: head.position, replayed: 0) }
        var after = since.offset
        var replayed = 0
        while after < head.lastOffset {
            let page = try await store.messages(in: stream, apiID: gateway.apiID, after: after, limit: min(100, head.lastOffset - after))
            guard !page.isEmpty else { break }
            for message in page {
                // A hole (a message pruned around an older one still in the outbox, or between the
                // head and this read): not everything can be had.
                guard message.position.offset == after + 1 else {
                    counters.replayed.increment(by: replayed)
                    return Recovery(recovered: false, position: head.position, replayed: replayed)
                }
                after = message.position.offset
                let report = try await messenger.send(try message.stamped(), to: .connection(connection), on: gateway)
                guard report.sent == 1 else {
                    // Gone or failing: it will resume again from what it did get.
                    return Recovery(recovered: false, position: head.position, replayed: replayed)
                }
                replayed += 1
            }
        }
        counters.replayed.increment(by: replayed)
        // The last ones pruned between the head and the read: a gap too.
        let complete = after == head.lastOffset
        return Recovery(recovered: complete, position: head.position, replayed: replayed)
    }
}

/// What a publish did: the message's position, whether its idempotency key had been used (then
/// nothing was delivered again), and whom it reached.
public struct Publication: Sendable, Hashable {
    public var position: StreamPosition
    public var duplicate: Bool
    /// The delivery, when this publish made one.
    public var report: DeliveryReport?

    package init(position: StreamPosition, duplicate: Bool, report: DeliveryReport?) {
        self.position = position
        self.duplicate = duplicate
        self.report = report
    }
}

/// What a replay did.
public struct Recovery: Sendable, Hashable {
    /// Whether the client now has every message of the stream.
    public var recovered: Bool
    /// The stream's current position (``StreamPosition/beforeTheFirst``: nothing was ever published to it).
    public var position: StreamPosition
    /// How many messages were delivered to it.
    public var replayed: Int
}
