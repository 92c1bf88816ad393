public import APIGatewayWebSockets
import Foundation

/// The behaviour every ``ConnectionStore`` must have, as named checks a test suite runs against
/// a fresh store each.
///
/// ```swift
/// @Test(arguments: ConnectionStoreConformance.checks)
/// func conformance(_ check: ConnectionStoreConformance.Check) async throws {
///     try await check.run(InMemoryConnectionStore())
/// }
/// ```
public enum ConnectionStoreConformance {
    /// One behaviour, checked against an empty store.
    public struct Check: Sendable, CustomStringConvertible {
        public let name: String
        let body: @Sendable (any ConnectionStore) async throws -> Void

        /// Runs the check. - Throws: ``ConformanceFailure`` naming what the store got wrong.
        public func run(_ store: any ConnectionStore) async throws { try await body(store) }

        public var description: String { name }
    }

    /// A store that did not behave as ``ConnectionStore`` requires.
    public struct ConformanceFailure: Error, CustomStringConvertible {
        public let description: String
    }

    static let api: APIID = "confapi1"
    static let otherAPI: APIID = "confapi2"
    /// Whole milliseconds: stores may keep no finer precision.
    static let t0 = Date(timeIntervalSince1970: 1_790_000_000.123)

    static func id(_ n: Int) -> ConnectionID { try! ConnectionID(String(format: "conn%04d-AbC=", n)) }
    static func session(_ n: Int, api: APIID = api, user: String? = nil, at date: Date = t0) -> Session {
        Session(connectionID: id(n), apiID: api, stage: "test", userID: user, createdAt: date)
    }

    static func channel(_ name: String) -> ChannelName { try! ChannelName(name) }

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(description: message()) }
    }

    public static let checks: [Check] = [
        Check(name: "connect records every field and the channel") { store in
            var session = Self.session(1, user: "user-7")
            session.webSessionHash = "login-hash"
            session.authStateHash = "state-hash"
            try expect(try await store.connect(session) == .created, "a new id must be created")
            let loaded = try await store.session(id(1))
            try expect(loaded == session, "loaded \(String(describing: loaded)), expected \(session)")
            try expect(try await store.channels(of: id(1), apiID: api) == [channel("lobby")], "a member of the channel it connected into")
            try expect(try await store.connect(Self.session(2), channel: nil) == .created, "a connect into no channel")
            try expect(try await store.channels(of: id(2), apiID: api).isEmpty, "in no channel")
        },
        Check(name: "a retried connect keeps the session and takes the new channel") { store in
            _ = try await store.connect(session(1, at: t0), channel: "a")
            _ = try await store.join(channel("extra"), connection: id(1), apiID: api, limit: 16, at: t0)
            _ = try await store.touch(id(1), apiID: api, at: t0.addingTimeInterval(1))
            let retry = session(1, user: "u", at: t0.addingTimeInterval(2))
            try expect(try await store.connect(retry, channel: "b") == .retried, "a connected id seen again is a retry")
            let loaded = try await store.session(id(1))
            try expect(loaded?.createdAt == t0, "the creation time must be kept, got \(String(describing: loaded?.createdAt))")
            try expect(loaded?.requestCount == 1, "the count must be kept")
            try expect(loaded?.userID == "u", "the retry's user must be taken")
            let channels = try await store.channels(of: id(1), apiID: api)
            try expect(channels == [channel("b")], "the retry's channel becomes its only one, got \(channels)")
            try expect(loaded?.connected == true, "still connected")
        },
        Check(name: "a disconnected id is never revived") { store in
            _ = try await store.connect(session(1))
            _ = try await store.disconnect(id(1), apiID: api, at: t0)
            try expect(try await store.connect(session(1), channel: "again") == .alreadyClosed, "connect after disconnect is alreadyClosed")
            let loaded = try await store.session(id(1))
            try expect(loaded?.connected == false, "nothing may change")
            try expect(try await store.channels(of: id(1), apiID: api) == [channel("lobby")], "its channels must not change")
        },
        Check(name: "an id connected on another API is not taken over") { store in
            _ = try await store.connect(session(1))
            try expect(try await store.connect(session(1, api: otherAPI)) == .alreadyClosed, "another API's id is alreadyClosed")
            try expect(try await store.session(id(1))?.apiID == api, "the owner must not change")
        },
        Check(name: "disconnect answers the session it ended, once") { store in
            _ = try await store.connect(session(1, user: "u"))
            _ = try await store.touch(id(1), apiID: api, at: t0.addingTimeInterval(1))
            try expect(try await store.disconnect(id(1), apiID: otherAPI, at: t0) == nil, "another API cannot disconnect it")
            let ended = try await store.disconnect(id(1), apiID: api, at: t0.addingTimeInterval(5))
            try expect(
                ended?.connectionID == id(1) && ended?.userID == "u" && ended?.requestCount == 1 && ended?.connected == true
                    && ended?.createdAt == t0,
                "the first disconnect answers the session as it was, got \(String(describing: ended))")
            try expect(try await store.disconnect(id(1), apiID: api, at: t0) == nil, "second disconnect")
            try expect(try await store.disconnect(id(2), apiID: api, at: t0) == nil, "unknown id")
            let loaded = try await store.session(id(1))
            try expect(loaded?.connected == false && loaded?.updatedAt == t0.addingTimeInterval(5), "marked disconnected at the time given")
        },
        Check(name: "touch bumps the count of live sessions only") { store in
            _ = try await store.connect(session(1))
            let first = try await store.touch(id(1), apiID: api, at: t0.addingTimeInterval(1))
            let second = try await store.touch(id(1), apiID: api, at: t0.addingTimeInterval(2))
            try expect(
                first?.requestCount == 1 && second?.requestCount == 2,
                "counts 1 then 2, got \(String(describing: first?.requestCount)), \(String(describing: second?.requestCount))")
            try expect(second?.updatedAt == t0.addingTimeInterval(2) && second?.createdAt == t0, "updatedAt moves, createdAt stays")
            try expect(try await store.touch(id(1), apiID: otherAPI, at: t0) == nil, "another API sees no session")
            try expect(try await store.touch(id(9), apiID: api, at: t0) == nil, "unknown id")
            _ = try await store.disconnect(id(1), apiID: api, at: t0)
            try expect(try await store.touch(id(1), apiID: api, at: t0) == nil, "a disconnected session is not live")
        },
        Check(name: "concurrent touches are all counted") { store in
            _ = try await store.connect(session(1))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<40 { group.addTask { _ = try await store.touch(id(1), apiID: api, at: t0) } }
                try await group.waitForAll()
            }
            let count = try await store.session(id(1))?.requestCount
            try expect(count == 40, "40 touches must count 40, got \(String(describing: count))")
        },
        Check(name: "concurrent connects and disconnects are each recorded once") { store in
            // Stores may run concurrent calls together (group commit): each still gets its own answer.
            let outcomes = try await withThrowingTaskGroup(of: (Int, ConnectOutcome).self) { group in
                for n in 0..<60 {
                    group.addTask {
                        (n, try await store.connect(session(n % 50, user: "u\(n)"), channel: n % 2 == 0 ? "even" : nil))
                    }
                }
                return try await group.reduce(into: [Int: ConnectOutcome]()) { $0[$1.0] = $1.1 }
            }
            try expect(outcomes.values.filter { $0 == .created }.count == 50, "50 ids are created once each, got \(outcomes)")
            try expect(outcomes.values.filter { $0 == .retried }.count == 10, "the 10 repeated ids are retries")
            for n in 0..<50 where n >= 10 {
                try expect(try await store.session(id(n))?.userID == "u\(n)", "session \(n) recorded with its user")
                let channels = try await store.channels(of: id(n), apiID: api)
                try expect(channels == (n % 2 == 0 ? [channel("even")] : []), "session \(n)'s channel, got \(channels)")
            }
            // Each id three times: twice on its API, once on another (which ends nothing).
            let answers = try await withThrowingTaskGroup(of: (APIID, Session?).self) { group in
                for n in 0..<150 {
                    let on = n % 3 == 0 ? otherAPI : api
                    group.addTask { (on, try await store.disconnect(id(n % 50), apiID: on, at: t0.addingTimeInterval(1))) }
                }
                return try await group.reduce(into: [(APIID, Session?)]()) { $0.append($1) }
            }
            try expect(answers.allSatisfy { $0.0 == api || $0.1 == nil }, "another API's disconnect ends nothing")
            let ended = answers.compactMap { $0.1?.connectionID }
            try expect(ended.count == 50 && Set(ended).count == 50, "each of 50 sessions is ended once by 100 disconnects, got \(ended.count)")
            try expect(try await store.connectedCount(apiID: api) == 0, "none is left connected")
        },
        Check(name: "join adds a channel once, up to the limit, for live sessions only") { store in
            _ = try await store.connect(session(1), channel: "a")
            func join(_ name: String, _ n: Int = 1, api: APIID = api) async throws -> JoinOutcome {
                try await store.join(channel(name), connection: id(n), apiID: api, limit: 3, at: t0)
            }
            try expect(try await join("b") == .joined, "a new channel is joined")
            try expect(try await join("b") == .alreadyMember, "joining again changes nothing")
            try expect(try await join("c") == .joined, "a third channel is within the limit")
            try expect(try await join("d") == .full, "a fourth is past the limit of 3")
            let channels = try await store.channels(of: id(1), apiID: api)
            try expect(channels == ["a", "b", "c"].map(channel), "in a, b and c, got \(channels)")
            try expect(try await join("b", 1, api: otherAPI) == .notConnected, "another API cannot join it")
            try expect(try await join("b", 9) == .notConnected, "an unknown id joins nothing")
            _ = try await store.connect(session(2))
            _ = try await store.disconnect(id(2), apiID: api, at: t0)
            try expect(try await join("b", 2) == .notConnected, "a disconnected session joins nothing")
        },
        Check(name: "concurrent joins of one connection stay within the limit") { store in
            _ = try await store.connect(session(1), channel: nil)
            let joined = try await withThrowingTaskGroup(of: JoinOutcome.self) { group in
                for n in 0..<20 {
                    group.addTask { try await store.join(channel("c\(n)"), connection: id(1), apiID: api, limit: 5, at: t0) }
                }
                return try await group.reduce(into: 0) { count, outcome in count += outcome == .joined ? 1 : 0 }
            }
            let channels = try await store.channels(of: id(1), apiID: api)
            try expect(
                joined == 5 && channels.count == 5, "5 of 20 concurrent joins may pass a limit of 5: \(joined) joined, in \(channels.count)"
            )
        },
        Check(name: "leave and leaveAll remove memberships") { store in
            _ = try await store.connect(session(1), channel: "a")
            for name in ["b", "c"] { _ = try await store.join(channel(name), connection: id(1), apiID: api, limit: 16, at: t0) }
            try expect(try await store.leave(channel("b"), connection: id(1), apiID: api), "b was joined")
            try expect(try await store.leave(channel("b"), connection: id(1), apiID: api) == false, "b is left already")
            try expect(try await store.leave(channel("a"), connection: id(1), apiID: otherAPI) == false, "another API cannot make it leave")
            let left = try await store.leaveAll(id(1), apiID: api)
            try expect(left == ["a", "c"].map(channel), "leaveAll answers what it left: \(left)")
            try expect(try await store.channels(of: id(1), apiID: api).isEmpty, "in no channel")
            try expect(try await store.audience(.channel(channel("a")), apiID: api, after: nil, limit: 10).isEmpty, "not in a's audience")
        },
        Check(name: "members and counts are the connected sessions in the channel") { store in
            let users: [String?] = ["ada", "ada", "bob", nil, "carl"]
            for (n, user) in users.enumerated() { _ = try await store.connect(session(n, user: user), channel: "room") }
            _ = try await store.disconnect(id(4), apiID: api, at: t0)
            _ = try await store.connect(session(5, user: "ada"), channel: "other")
            _ = try await store.connect(session(6, api: otherAPI, user: "dan"), channel: "room")
            let members = try await store.members(of: channel("room"), apiID: api, after: nil, limit: 10)
            try expect(members.map(\.connectionID) == (0..<4).map(id), "the connected members in id order: \(members.map(\.connectionID))")
            try expect(members.map(\.userID) == ["ada", "ada", "bob", nil], "with their users: \(members.map(\.userID))")
            try expect(members.allSatisfy { $0.joinedAt == t0 }, "joined when they connected")
            let page = try await store.members(of: channel("room"), apiID: api, after: id(1), limit: 1)
            try expect(page.map(\.connectionID) == [id(2)], "a page after id 1: \(page.map(\.connectionID))")
            let count = try await store.count(of: channel("room"), apiID: api)
            try expect(count == ChannelCount(channel: channel("room"), connections: 4, users: 2), "4 connections of 2 users: \(count)")
            let distinct = try await store.users(in: channel("room"), apiID: api, limit: 10)
            try expect(distinct == ["ada", "bob"], "the distinct users of the connected members, by name: \(distinct)")
            try expect(try await store.users(in: channel("room"), apiID: api, limit: 1) == ["ada"], "at most the limit")
            let empty = try await store.count(of: channel("nobody"), apiID: api)
            try expect(empty == ChannelCount(channel: channel("nobody"), connections: 0, users: 0), "an empty channel counts 0: \(empty)")
            let all = try await store.channelCounts(apiID: api)
            try expect(
                all == [ChannelCount(channel: channel("other"), connections: 1, users: 1), count],
                "every channel with a member, by name: \(all)")
            _ = try await store.markGone([id(0)], apiID: api, at: t0)
            _ = try await store.disconnectSessions(createdBefore: t0.addingTimeInterval(1), at: t0)
            try expect(try await store.count(of: channel("room"), apiID: api).connections == 0, "gone and swept members count no more")
        },
        Check(name: "audiences page in id order over connected sessions of the API") { store in
            for n in 0..<25 {
                _ = try await store.connect(session(n, user: n < 5 ? "u1" : nil), channel: n % 2 == 0 ? "even" : "odd")
                if n % 3 == 0 { _ = try await store.join(channel("three"), connection: id(n), apiID: api, limit: 16, at: t0) }
            }
            _ = try await store.connect(session(100, api: otherAPI), channel: "even")
            _ = try await store.disconnect(id(4), apiID: api, at: t0)
            func all(_ audience: Audience) async throws -> [ConnectionID] {
                var ids: [ConnectionID] = []
                var after: ConnectionID?
                while true {
                    let page = try await store.audience(audience, apiID: api, after: after, limit: 10)
                    try expect(page.count <= 10, "a page holds at most the limit")
                    ids += page
                    guard page.count == 10, let last = page.last else { return ids }
                    after = last
                }
            }
            let even = try await all(.channel("even"))
            try expect(even == (0..<25).filter { $0 % 2 == 0 && $0 != 4 }.map(id), "channel 'even': \(even)")
            let three = try await all(.channel("three"))
            try expect(three == (0..<25).filter { $0 % 3 == 0 }.map(id), "a second channel of the same connections: \(three)")
            let everyone = try await all(.everyone)
            try expect(everyone == (0..<25).filter { $0 != 4 }.map(id), "everyone: \(everyone.count) ids")
            let user = try await all(.user("u1"))
            try expect(user == [0, 1, 2, 3].map(id), "user u1: \(user)")
            let single = try await store.audience(.connection(id(3)), apiID: api, after: nil, limit: 10)
            try expect(single == [id(3)], "one connection")
        },
        Check(name: "sessions are listed by filter, in id order, a page at a time") { store in
            for n in 0..<6 { _ = try await store.connect(session(n, user: n < 3 ? "ada" : "bob"), channel: n % 2 == 0 ? "even" : "odd") }
            _ = try await store.connect(session(6, api: otherAPI, user: "ada"), channel: "even")
            _ = try await store.disconnect(id(0), apiID: api, at: t0)
            func ids(_ filter: SessionFilter, after: ConnectionID? = nil, limit: Int = 10) async throws -> [ConnectionID] {
                try await store.sessions(filter, after: after, limit: limit).map(\.connectionID)
            }
            try expect(try await ids(SessionFilter()) == (0...6).map(id), "everything, on any API")
            try expect(try await ids(SessionFilter(apiID: api, userID: "ada")) == [0, 1, 2].map(id), "ada's on one API")
            try expect(try await ids(SessionFilter(apiID: api, connected: true)) == (1...5).map(id), "connected only")
            try expect(try await ids(SessionFilter(connected: false)) == [id(0)], "disconnected only")
            try expect(try await ids(SessionFilter(channel: channel("even"))) == [0, 2, 4, 6].map(id), "members of a channel")
            try expect(try await ids(SessionFilter(), after: id(2), limit: 2) == [3, 4].map(id), "a page after an id")
            try expect(try await store.connectedCount(apiID: api) == 5, "5 connected on the API")
            try expect(try await store.connectedCount(apiID: nil) == 6, "6 connected on any API")
        },
        Check(name: "markGone counts only connected sessions of the API") { store in
            for n in 0..<5 { _ = try await store.connect(session(n)) }
            _ = try await store.disconnect(id(0), apiID: api, at: t0)
            let marked = try await store.markGone([id(0), id(1), id(2), id(77)], apiID: api, at: t0)
            try expect(marked == 2, "2 were connected, got \(marked)")
            try expect(try await store.markGone([id(3)], apiID: otherAPI, at: t0) == 0, "another API's ids are untouched")
            try expect(try await store.session(id(3))?.connected == true, "still connected")
            try expect(try await store.markGone([], apiID: api, at: t0) == 0, "an empty list is fine")
        },
        Check(name: "the sweep marks only connected sessions created before the cutoff") { store in
            _ = try await store.connect(session(0, at: t0.addingTimeInterval(-7300)))
            _ = try await store.connect(session(1, api: otherAPI, at: t0.addingTimeInterval(-7300)))
            _ = try await store.connect(session(2, at: t0.addingTimeInterval(-10)))
            _ = try await store.connect(session(3, at: t0.addingTimeInterval(-8000)))
            _ = try await store.disconnect(id(3), apiID: api, at: t0.addingTimeInterval(-7900))
            let swept = try await store.disconnectSessions(createdBefore: t0.addingTimeInterval(-7200), at: t0)
            try expect(swept == 2, "two connected sessions older than the cutoff, on any API; got \(swept)")
            let old = try await store.session(id(0)), other = try await store.session(id(1))
            try expect(old?.connected == false && old?.updatedAt == t0 && other?.connected == false, "marked, at the sweep's time")
            try expect(try await store.session(id(2))?.connected == true, "a young session is kept")
            try expect(try await store.session(id(3))?.updatedAt == t0.addingTimeInterval(-7900), "a disconnected one is untouched")
            try expect(try await store.touch(id(0), apiID: api, at: t0) == nil, "a swept session is not live")
        },
        Check(name: "a login's or a user's connected sessions are found, on any API") { store in
            var mine = session(0)
            mine.webSessionHash = "login-a"
            var other = session(1, api: otherAPI)
            other.webSessionHash = "login-a"
            var foreign = session(2)
            foreign.webSessionHash = "login-b"
            var gone = session(3)
            gone.webSessionHash = "login-a"
            for one in [mine, other, foreign, gone] { _ = try await store.connect(one) }
            _ = try await store.disconnect(id(3), apiID: api, at: t0)
            let found = try await store.connectedSessions(of: .webSession(hash: "login-a"))
            try expect(found.map(\.connectionID) == [id(0), id(1)], "the connected sessions of login-a: \(found.map(\.connectionID))")
            try expect(found.first?.webSessionHash == "login-a", "the hash is recorded")
            try expect(try await store.connectedSessions(of: .webSession(hash: "nobody")).isEmpty, "an unknown login has none")
            var ada = session(4, user: "ada")
            ada.webSessionHash = "login-c"
            _ = try await store.connect(ada)
            _ = try await store.connect(session(5, api: otherAPI, user: "ada"))
            _ = try await store.connect(session(6, user: "bob"))
            let users = try await store.connectedSessions(of: .user("ada"))
            try expect(
                users.map(\.connectionID) == [id(4), id(5)], "every connected session of ada, on any API: \(users.map(\.connectionID))")
        },
        Check(name: "purge deletes only old disconnected sessions") { store in
            for n in 0..<4 { _ = try await store.connect(session(n)) }
            _ = try await store.disconnect(id(0), apiID: api, at: t0.addingTimeInterval(-100))
            _ = try await store.disconnect(id(1), apiID: api, at: t0.addingTimeInterval(100))
            let purged = try await store.purgeDisconnected(before: t0)
            try expect(purged == 1, "one old disconnected session, got \(purged)")
            try expect(try await store.session(id(0)) == nil, "purged")
            let kept1 = try await store.session(id(1)), kept2 = try await store.session(id(2))
            try expect(kept1 != nil && kept2 != nil, "kept")
            try expect(try await store.channels(of: id(0), apiID: api).isEmpty, "a purged session's memberships go with it")
            try expect(try await store.channels(of: id(1), apiID: api) == [channel("lobby")], "a kept one's stay")
        },
    ]
}

extension ConnectionStore {
    /// Connects `session` into the channel named `channel` (`lobby` unless told).
    fileprivate func connect(_ session: Session, channel: String? = "lobby") async throws -> ConnectOutcome {
        try await connect(session, joining: channel.map { try! ChannelName($0) })
    }
}
