import APIGatewayAWS
public import Foundation

/// The streams of an ``InMemoryConnectionStore``: every stream's messages in an array, offsets
/// assigned under the store's lock.
struct InMemoryStreams {
    struct Key: Hashable {
        let apiID: APIID
        let stream: StreamID
    }
    struct Stream {
        let epoch: String
        var lastOffset = 0
        /// In offset order.
        var messages: [StreamMessage] = []
        /// The claim of each undelivered message, by offset.
        var claims: [Int: Date] = [:]

        /// The index of the first message at or after `offset` (binary search: the messages are in order).
        func index(from offset: Int) -> Int {
            var (low, high) = (messages.startIndex, messages.endIndex)
            while low < high {
                let middle = (low + high) / 2
                if messages[middle].position.offset < offset { low = middle + 1 } else { high = middle }
            }
            return low
        }

        /// The index of the message at `offset`, if it is kept.
        func index(of offset: Int) -> Int? {
            let index = index(from: offset)
            return index < messages.endIndex && messages[index].position.offset == offset ? index : nil
        }
    }
    var streams: [Key: Stream] = [:]
    /// The stream and offset each idempotency key took, by API and key.
    var keyed: [APIID: [String: (stream: Key, offset: Int)]] = [:]
}

extension InMemoryConnectionStore: StreamStore {
    private static func appendInPlace(_ stream: inout InMemoryStreams.Stream, _ message: NewStreamMessage) -> StreamMessage {
        stream.lastOffset += 1
        let stored = StreamMessage(
            apiID: message.apiID, stream: message.stream, position: StreamPosition(offset: stream.lastOffset, epoch: stream.epoch),
            body: message.body, publishedAt: message.publishedAt, idempotencyKey: message.idempotencyKey)
        stream.messages.append(stored)
        stream.claims[stream.lastOffset] = message.claimedUntil ?? .distantPast
        return stored
    }

    public func append(_ message: NewStreamMessage) async throws -> Appended {
        streams.withLock { state in
            let key = InMemoryStreams.Key(apiID: message.apiID, stream: message.stream)
            if let idempotencyKey = message.idempotencyKey, let taken = state.keyed[message.apiID]?[idempotencyKey],
                let stream = state.streams[taken.stream], let index = stream.index(of: taken.offset)
            {
                return Appended(message: stream.messages[index], duplicate: true)
            }
            // In place: a copy of the stream out of the dictionary and back would copy its messages.
            let stored = Self.appendInPlace(&state.streams[key, default: InMemoryStreams.Stream(epoch: StreamPosition.newEpoch())], message)
            if let idempotencyKey = message.idempotencyKey {
                state.keyed[message.apiID, default: [:]][idempotencyKey] = (key, stored.position.offset)
            }
            return Appended(message: stored, duplicate: false)
        }
    }

    public func messages(in stream: StreamID, apiID: APIID, after offset: Int, limit: Int) async throws -> [StreamMessage] {
        streams.withLock { state in
            guard let kept = state.streams[.init(apiID: apiID, stream: stream)] else { return [] }
            return Array(kept.messages[kept.index(from: offset + 1)...].prefix(max(0, limit)))
        }
    }

    public func lastMessages(in stream: StreamID, apiID: APIID, before offset: Int?, limit: Int) async throws -> [StreamMessage] {
        streams.withLock { state in
            guard let kept = state.streams[.init(apiID: apiID, stream: stream)] else { return [] }
            return Array(kept.messages[..<kept.index(from: offset ?? Int.max)].suffix(max(0, limit)))
        }
    }

    public func head(of stream: StreamID, apiID: APIID) async throws -> StreamHead? {
        streams.withLock { state in
            state.streams[.init(apiID: apiID, stream: stream)].map {
                StreamHead(epoch: $0.epoch, lastOffset: $0.lastOffset, firstOffset: $0.messages.first?.position.offset ?? $0.lastOffset + 1)
            }
        }
    }

    public func claimUndelivered(limit: Int, until: Date, at now: Date) async throws -> [StreamMessage] {
        streams.withLock { state in
            var claimed: [StreamMessage] = []
            for key in state.streams.keys.sorted(by: { ($0.apiID.rawValue, $0.stream.key) < ($1.apiID.rawValue, $1.stream.key) }) {
                guard claimed.count < limit, let offsets = state.streams[key]?.claims.keys.sorted() else { break }
                for offset in offsets {
                    // An earlier message still held by its publisher holds the stream's order.
                    guard state.streams[key]!.claims[offset]! <= now, claimed.count < limit else { break }
                    state.streams[key]!.claims[offset] = until
                    if let index = state.streams[key]!.index(of: offset) {
                        state.streams[key]!.messages[index].attempts += 1
                        claimed.append(state.streams[key]!.messages[index])
                    }
                }
            }
            return claimed
        }
    }

    public func extendClaims(_ messages: [StreamMessage], until: Date) async throws {
        streams.withLock { state in
            for message in messages {
                let key = InMemoryStreams.Key(apiID: message.apiID, stream: message.stream)
                if state.streams[key]?.claims[message.position.offset] != nil {
                    state.streams[key]!.claims[message.position.offset] = until
                }
            }
        }
    }

    public func markDelivered(_ messages: [StreamMessage]) async throws {
        streams.withLock { state in
            for message in messages {
                let key = InMemoryStreams.Key(apiID: message.apiID, stream: message.stream)
                state.streams[key]?.claims[message.position.offset] = nil
                if let index = state.streams[key]?.index(of: message.position.offset) {
                    state.streams[key]!.messages[index].delivered = true
                }
            }
        }
    }

    public func pruneStreams(_ retention: StreamRetention, at now: Date) async throws -> Int {
        let oldest = now.addingTimeInterval(-retention.age.timeInterval)
        return streams.withLock { state in
            var pruned = 0
            for key in Array(state.streams.keys) {
                let before = state.streams[key]!.messages.count
                let keepFrom = state.streams[key]!.lastOffset - retention.messages
                state.streams[key]!.messages.removeAll { message in
                    message.delivered && (message.position.offset <= keepFrom || message.publishedAt < oldest)
                }
                pruned += before - state.streams[key]!.messages.count
            }
            // A key lasts as long as its message.
            for (apiID, keys) in state.keyed {
                state.keyed[apiID] = keys.filter { _, taken in
                    state.streams[taken.stream]?.index(of: taken.offset) != nil
                }
            }
            return pruned
        }
    }

    public func streamStatistics(at now: Date) async throws -> StreamStatistics {
        streams.withLock { state in
            let undelivered = state.streams.values.flatMap { $0.messages.filter { !$0.delivered } }
            let oldest = undelivered.map(\.publishedAt).min()
            return StreamStatistics(
                streams: state.streams.count, messages: state.streams.values.reduce(0) { $0 + $1.messages.count },
                undelivered: undelivered.count, oldestUndeliveredAge: oldest.map { .seconds(max(0, now.timeIntervalSince($0))) } ?? .zero)
        }
    }
}
