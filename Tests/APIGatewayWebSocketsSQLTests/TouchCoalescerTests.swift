import APIGatewayWebSockets
import Foundation
import Synchronization
import Testing

@testable import APIGatewayWebSocketsSQL

@Suite struct TouchCoalescerTests {
    let api: APIID = "coalesce1"

    /// A fake statement: records each batch, waits a little, answers a session per id.
    final class Statements: Sendable {
        let batches = Mutex<[[ConnectionID]]>([])
        let failing = Atomic<Bool>(false)
        func run(_ ids: [ConnectionID], _ api: APIID, _ date: Date) async throws -> [ConnectionID: Session] {
            batches.withLock { $0.append(ids) }
            try await Task.sleep(for: .milliseconds(5))
            struct Down: Error {}
            if failing.load(ordering: .relaxed) { throw Down() }
            return Dictionary(
                uniqueKeysWithValues: ids.map { ($0, Session(connectionID: $0, apiID: api, stage: "s", requestCount: 1, createdAt: date)) })
        }
    }

    @Test func concurrentTouchesShareStatementsButNotConnections() async throws {
        let statements = Statements()
        let coalescer = TouchCoalescer(maxBatch: 16) { try await statements.run($0, $1, $2) }
        let ids = try (0..<60).map { try ConnectionID("c\($0 % 30)") }  // each id twice
        let answered = try await withThrowingTaskGroup(of: ConnectionID?.self) { group in
            for id in ids { group.addTask { try await coalescer.touch(.init(id: id, apiID: api, date: .now))?.connectionID } }
            return try await group.reduce(into: [ConnectionID?]()) { $0.append($1) }
        }
        #expect(answered.count == 60 && answered.allSatisfy { $0 != nil }, "everyone gets their own session")
        let batches = statements.batches.withLock { $0 }
        #expect(batches.map(\.count).reduce(0, +) == 60, "every touch ran exactly once")
        #expect(batches.count < 60, "touches were coalesced: \(batches.count) statements")
        #expect(
            batches.allSatisfy { $0.count <= 16 && Set($0).count == $0.count }, "no batch names a connection twice or exceeds the limit")
    }

    @Test func aFailedStatementFailsEveryTouchInIt() async throws {
        let statements = Statements()
        statements.failing.store(true, ordering: .relaxed)
        let coalescer = TouchCoalescer { try await statements.run($0, $1, $2) }
        let failures = await withTaskGroup(of: Bool.self) { group in
            for n in 0..<10 {
                group.addTask { (try? await coalescer.touch(.init(id: try! ConnectionID("f\(n)"), apiID: api, date: .now))) == nil }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(failures == 10)
        // The coalescer recovers once the database does.
        statements.failing.store(false, ordering: .relaxed)
        #expect(try await coalescer.touch(.init(id: try ConnectionID("after"), apiID: api, date: .now)) != nil)
    }

    // A caller that saw a batch running left the lock before queueing itself; a leader finishing
    // in that gap handed the lead to nobody, and the caller waited for a message that might never
    // come. Rounds of two touches against an instant statement hit the gap within a few thousand.
    @Test func noTouchWaitsForALeaderThatHasGone() async throws {
        let coalescer = TouchCoalescer { ids, api, date in
            Dictionary(
                uniqueKeysWithValues: ids.map { ($0, Session(connectionID: $0, apiID: api, stage: "s", requestCount: 1, createdAt: date)) })
        }
        let a = try ConnectionID("a"), b = try ConnectionID("b")
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(20)
        var rounds = 0
        while rounds < 20_000, clock.now < deadline {
            // Unstructured, so that a touch that never returns cannot hold the test up with it.
            let (answers, answer) = AsyncStream.makeStream(of: Bool.self)
            for id in [a, b] {
                Task { answer.yield((try? await coalescer.touch(.init(id: id, apiID: api, date: .now))) != nil) }
            }
            let timer = Task {
                try? await Task.sleep(for: .seconds(2))
                answer.finish()
            }
            var answered = 0
            for await result in answers where result {
                answered += 1
                if answered == 2 { break }
            }
            timer.cancel()
            #expect(answered == 2, "round \(rounds): a touch was never answered")
            guard answered == 2 else { return }
            rounds += 1
        }
    }
}
