public import APIGatewayWebSockets
import Foundation
import NIOCore

/// What every ``StreamStore`` must do, as checks to run against a fresh store each:
///
/// ```swift
/// @Test(arguments: StreamStoreConformance.checks)
/// func conformance(_ check: StreamStoreConformance.Check) async throws {
///     try await check.run(MyStore())
/// }
/// ```
public enum StreamStoreConformance {
    public struct Check: Sendable, CustomStringConvertible {
        public let name: String
        let body: @Sendable (any StreamStore) async throws -> Void
        public func run(_ store: any StreamStore) async throws { try await body(store) }
        public var description: String { name }
    }

    static let api = APIID("conform01")
    /// The stream most checks use.
    public static let lobby = StreamID.channel("lobby")
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConnectionStoreConformance.ConformanceFailure(description: message()) }
    }

    static func message(
        _ text: String, to stream: StreamID = lobby, key: String? = nil, at date: Date = start, claimedUntil: Date? = nil
    ) -> NewStreamMessage {
        NewStreamMessage(
            apiID: api, stream: stream, body: ByteBuffer(string: #"{"text":"\#(text)"}"#), idempotencyKey: key, publishedAt: date,
            claimedUntil: claimedUntil)
    }

    /// Appends `count` messages from `callers` concurrent tasks; answers the offsets taken.
    public static func appendConcurrently(_ count: Int, callers: Int, to stores: [any StreamStore], stream: StreamID = lobby)
        async throws -> [Int]
    {
        try await withThrowingTaskGroup(of: [Int].self) { group in
            for caller in 0..<callers {
                let store = stores[caller % stores.count]
                group.addTask {
                    var offsets: [Int] = []
                    for index in stride(from: caller, to: count, by: callers) {
                        offsets.append(try await store.append(message("m\(index)", to: stream)).message.position.offset)
                    }
                    return offsets
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    public static let checks: [Check] = [
        Check(name: "offsets count from 1 in each stream, under one epoch per stream") { store in
            var positions: [StreamPosition] = []
            for index in 1...3 { positions.append(try await store.append(message("\(index)")).message.position) }
            try expect(positions.map(\.offset) == [1, 2, 3], "offsets \(positions.map(\.offset))")
            try expect(Set(positions.map(\.epoch)).count == 1 && !positions[0].epoch.isEmpty, "one epoch: \(positions)")
            let other = try await store.append(message("x", to: .user("ada"))).message.position
            try expect(other.offset == 1, "another stream counts on its own: \(other)")
            let head = try await store.head(of: lobby, apiID: api)
            try expect(head == StreamHead(epoch: positions[0].epoch, lastOffset: 3, firstOffset: 1), "head \(String(describing: head))")
            try expect(try await store.head(of: .user("nobody"), apiID: api) == nil, "a stream nobody published to has no head")
        },
        Check(name: "messages after an offset, and the last ones before one, in offset order") { store in
            for index in 1...10 { _ = try await store.append(message("\(index)")) }
            let after = try await store.messages(in: lobby, apiID: api, after: 6, limit: 100)
            try expect(after.map(\.position.offset) == [7, 8, 9, 10], "after 6: \(after.map(\.position.offset))")
            try expect(String(buffer: after[0].body) == #"{"text":"7"}"#, "the body as published: \(String(buffer: after[0].body))")
            let page = try await store.messages(in: lobby, apiID: api, after: 0, limit: 3)
            try expect(page.map(\.position.offset) == [1, 2, 3], "a page: \(page.map(\.position.offset))")
            let last = try await store.lastMessages(in: lobby, apiID: api, before: nil, limit: 3)
            try expect(last.map(\.position.offset) == [8, 9, 10], "the last three: \(last.map(\.position.offset))")
            let before = try await store.lastMessages(in: lobby, apiID: api, before: 5, limit: 3)
            try expect(before.map(\.position.offset) == [2, 3, 4], "three before 5: \(before.map(\.position.offset))")
        },
        Check(name: "a used idempotency key appends nothing and answers the first message") { store in
            let first = try await store.append(message("once", key: "k-1"))
            let again = try await store.append(message("twice", key: "k-1"))
            try expect(!first.duplicate && again.duplicate, "the second is the duplicate")
            try expect(again.message.position == first.message.position, "the first's position: \(again.message.position)")
            try expect(String(buffer: again.message.body) == #"{"text":"once"}"#, "the first's body")
            try expect(try await store.head(of: lobby, apiID: api)?.lastOffset == 1, "nothing appended")
        },
        Check(name: "1,000 appends from 64 concurrent callers take offsets 1 to 1,000 once each") { store in
            let offsets = try await appendConcurrently(1000, callers: 64, to: [store])
            try expect(offsets.sorted() == Array(1...1000), "offsets: \(offsets.count) taken, \(Set(offsets).count) distinct")
        },
        Check(name: "the outbox: unclaimed and expired claims are taken in order; a held earlier one holds its stream") { store in
            let held = try await store.append(message("held", claimedUntil: start.addingTimeInterval(30))).message
            _ = try await store.append(message("after-held"))
            let other = StreamID.channel("other")
            _ = try await store.append(message("o1", to: other))
            _ = try await store.append(message("o2", to: other, claimedUntil: start.addingTimeInterval(-1)))
            let claimed = try await store.claimUndelivered(limit: 10, until: start.addingTimeInterval(100), at: start)
            try expect(
                claimed.map { "\($0.stream):\($0.position.offset)" } == ["channel:other:1", "channel:other:2"],
                "the other stream, in order; the lobby waits behind its held message: \(claimed.map { "\($0.stream):\($0.position.offset)" })")
            try expect(claimed.allSatisfy { $0.attempts == 1 }, "first attempts")
            let again = try await store.claimUndelivered(limit: 10, until: start.addingTimeInterval(60), at: start.addingTimeInterval(1))
            try expect(again.isEmpty, "claimed ones are not claimed twice: \(again.count)")
            // The held message's claim runs out: both lobby messages, in order.
            let later = start.addingTimeInterval(31)
            let lobbyClaim = try await store.claimUndelivered(limit: 10, until: later.addingTimeInterval(30), at: later)
            try expect(lobbyClaim.map(\.position.offset) == [1, 2] && lobbyClaim.allSatisfy { $0.stream == lobby }, "the lobby: \(lobbyClaim.map(\.position.offset))")
            try expect(lobbyClaim[0].attempts == 1 && lobbyClaim[0].position == held.position, "the held one, claimed by a worker")
            try await store.markDelivered(lobbyClaim + claimed)
            let stats = try await store.streamStatistics(at: later)
            try expect(stats.undelivered == 0 && stats.messages == 4 && stats.streams == 2, "all delivered and kept: \(stats)")
            let none = try await store.claimUndelivered(limit: 10, until: later.addingTimeInterval(200), at: later.addingTimeInterval(100))
            try expect(none.isEmpty, "delivered ones are never claimed: \(none.count)")
        },
        Check(name: "pruning keeps the retention and every undelivered message") { store in
            for index in 1...10 {
                _ = try await store.append(message("\(index)", at: start.addingTimeInterval(Double(index)), claimedUntil: start.addingTimeInterval(1000)))
            }
            try await store.markDelivered(try await store.messages(in: lobby, apiID: api, after: 0, limit: 8))
            // Keep 3 per stream: 1…7 may go, but 9 and 10 are undelivered and 8 is within the last 3.
            let pruned = try await store.pruneStreams(StreamRetention(messages: 3, age: .seconds(3600)), at: start.addingTimeInterval(20))
            try expect(pruned == 7, "pruned \(pruned)")
            let head = try await store.head(of: lobby, apiID: api)
            try expect(head?.firstOffset == 8 && head?.lastOffset == 10, "head after pruning: \(String(describing: head))")
            // By age: published before now - 5 s, delivered.
            let byAge = try await store.pruneStreams(StreamRetention(messages: 100, age: .seconds(5)), at: start.addingTimeInterval(14))
            try expect(byAge == 1, "the delivered 8 is older than 5 s: \(byAge)")
            let stats = try await store.streamStatistics(at: start.addingTimeInterval(20))
            try expect(stats.undelivered == 2 && stats.messages == 2, "the undelivered stay: \(stats)")
            try expect(stats.oldestUndeliveredAge == .seconds(11), "the oldest undelivered was published at +9: \(stats.oldestUndeliveredAge)")
            let next = try await store.append(message("11"))
            try expect(next.message.position.offset == 11, "offsets go on after pruning: \(next.message.position)")
        },
    ]
}
