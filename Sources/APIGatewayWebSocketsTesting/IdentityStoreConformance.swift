public import APIGatewayWebSockets
import Foundation

/// What every ``IdentityStore`` must do, as checks to run against a fresh store each:
///
/// ```swift
/// @Test(arguments: IdentityStoreConformance.checks)
/// func conformance(_ check: IdentityStoreConformance.Check) async throws {
///     try await check.run(MyStore())
/// }
/// ```
public enum IdentityStoreConformance {
    public struct Check: Sendable, CustomStringConvertible {
        public let name: String
        let body: @Sendable (any IdentityStore) async throws -> Void
        public func run(_ store: any IdentityStore) async throws { try await body(store) }
        public var description: String { name }
    }

    static let t0 = Date(timeIntervalSince1970: 1_790_000_000.123)

    static func token(_ n: Int, user: String = "u1", at date: Date = t0, lifetime: TimeInterval = 60) -> ConnectionToken {
        ConnectionToken(
            hash: String(format: "%064x", n), userID: user, sessionHash: "s\(n)", createdAt: date,
            expiresAt: date.addingTimeInterval(lifetime))
    }

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConnectionStoreConformance.ConformanceFailure(description: message()) }
    }

    public static let checks: [Check] = [
        Check(name: "a token is consumed once, and only before it expires") { store in
            try await store.issue(token(1))
            try expect(try await store.token(hash: token(1).hash, at: t0) == token(1), "a look does not use it")
            let consumed = try await store.consumeToken(hash: token(1).hash, at: t0.addingTimeInterval(10))
            try expect(consumed == token(1), "the token comes back whole: \(String(describing: consumed))")
            try expect(try await store.consumeToken(hash: token(1).hash, at: t0.addingTimeInterval(11)) == nil, "never twice")
            try expect(try await store.token(hash: token(1).hash, at: t0.addingTimeInterval(11)) == nil, "a used one is not found")
            try await store.issue(token(2))
            try expect(try await store.consumeToken(hash: token(2).hash, at: t0.addingTimeInterval(60)) == nil, "not at its expiry")
            try expect(try await store.consumeToken(hash: String(format: "%064x", 99), at: t0) == nil, "an unknown hash is nothing")
        },
        Check(name: "50 concurrent uses of one token: exactly one succeeds") { store in
            try await store.issue(token(3))
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<50 { group.addTask { try await store.consumeToken(hash: token(3).hash, at: t0) != nil } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            try expect(wins == 1, "\(wins) of 50 concurrent uses succeeded")
        },
        Check(name: "expired tokens are purged, the rest kept") { store in
            for n in 10..<13 { try await store.issue(token(n, user: "ada", at: t0.addingTimeInterval(Double(n - 10) * 30))) }
            try await store.issue(token(20, user: "bob"))
            let purged = try await store.purgeTokens(expiredBefore: t0.addingTimeInterval(61))
            try expect(purged == 2, "ada's first and bob's expired at t0+60: \(purged)")
            try expect(
                try await store.consumeToken(hash: token(12, user: "ada").hash, at: t0.addingTimeInterval(61)) != nil, "the rest kept")
        },
        Check(name: "a sliding window admits at most the limit, then again as hits age out") { store in
            for second in 0..<3 {
                try expect(
                    try await store.hit("ip:1", at: t0.addingTimeInterval(Double(second)), window: .seconds(10), limit: 3), "hit \(second)")
            }
            try expect(!(try await store.hit("ip:1", at: t0.addingTimeInterval(5), window: .seconds(10), limit: 3)), "the fourth in 10 s")
            try expect(try await store.hit("ip:2", at: t0.addingTimeInterval(5), window: .seconds(10), limit: 3), "another key is apart")
            try expect(try await store.hit("ip:1", at: t0.addingTimeInterval(10.5), window: .seconds(10), limit: 3), "the first aged out")
            try expect(!(try await store.hit("ip:1", at: t0.addingTimeInterval(10.6), window: .seconds(10), limit: 3)), "full again")
        },
        Check(name: "100 concurrent hits with a limit of 10: exactly 10 counted; purge removes old ones") { store in
            let counted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<100 { group.addTask { try await store.hit("user:ada", at: t0, window: .seconds(60), limit: 10) } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            try expect(counted == 10, "\(counted) of 100 concurrent hits counted")
            try expect(try await store.purgeHits(before: t0.addingTimeInterval(1)) == 10, "the 10 recorded hits are purged")
            try expect(try await store.hit("user:ada", at: t0.addingTimeInterval(2), window: .seconds(60), limit: 10), "room again")
        },
        Check(name: "live tokens are listed newest first, and a revoked one connects no one") { store in
            for n in 0..<3 { try await store.issue(token(n, at: t0.addingTimeInterval(Double(n)))) }
            try await store.issue(token(9, at: t0.addingTimeInterval(-120)))  // expired
            _ = try await store.consumeToken(hash: token(1).hash, at: t0.addingTimeInterval(5))
            let live = try await store.liveTokens(at: t0.addingTimeInterval(5), limit: 10)
            try expect(live.map(\.hash) == [token(2).hash, token(0).hash], "unused and unexpired, newest first: \(live.map(\.hash))")
            try expect(try await store.liveTokens(at: t0.addingTimeInterval(5), limit: 1).count == 1, "at most the limit")
            try expect(try await store.revokeToken(hash: token(2).hash), "a live token is revoked")
            try expect(try await store.revokeToken(hash: token(2).hash) == false, "once")
            try expect(
                try await store.consumeToken(hash: token(2).hash, at: t0.addingTimeInterval(6)) == nil, "a revoked token is not consumed")
        },
        Check(name: "a logout revokes its web session's unused tokens, and only those") { store in
            func issued(_ n: Int, session: String) -> ConnectionToken {
                var made = token(n)
                made.sessionHash = session
                return made
            }
            for n in 30..<33 { try await store.issue(issued(n, session: "logged-out")) }
            try await store.issue(issued(33, session: "other"))
            _ = try await store.consumeToken(hash: token(30).hash, at: t0)
            try expect(try await store.revokeTokens(ofWebSession: "logged-out") == 2, "the two unused tokens of that session")
            try expect(try await store.revokeTokens(ofWebSession: "logged-out") == 0, "once")
            try expect(try await store.consumeToken(hash: token(31).hash, at: t0) == nil, "a revoked token connects no one")
            try expect(try await store.consumeToken(hash: token(33).hash, at: t0) != nil, "another session's token still works")
            try expect(try await store.revokeTokens(ofWebSession: "") == 0, "no session names no tokens")
        },
        Check(name: "hits are counted per key and a key can be cleared") { store in
            for n in 0..<3 { _ = try await store.hit("a", at: t0.addingTimeInterval(Double(n)), window: .seconds(60), limit: 10) }
            _ = try await store.hit("b", at: t0.addingTimeInterval(1), window: .seconds(60), limit: 10)
            _ = try await store.hit("old", at: t0.addingTimeInterval(-4000), window: .seconds(60), limit: 10)
            let counts = try await store.hitCounts(after: t0.addingTimeInterval(-3600), limit: 10)
            try expect(
                counts == [
                    HitCount(key: "a", hits: 3, latest: t0.addingTimeInterval(2)),
                    HitCount(key: "b", hits: 1, latest: t0.addingTimeInterval(1)),
                ],
                "busiest first, with the latest: \(counts)")
            try expect(try await store.clearHits(key: "a") == 3, "every hit of a")
            try expect(try await store.hit("a", at: t0.addingTimeInterval(3), window: .seconds(60), limit: 1), "a cleared key starts over")
        },
    ]
}
