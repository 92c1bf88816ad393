import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Foundation
import Synchronization
import Testing

/// Joins under the rules, status by status; several channels at once; presence.
@Suite struct ChannelTests {
    /// ada is staff; bob holds `ops.read` and `ops.write`; cy holds `ops.read`; root is admin.
    struct Roles: PermissionSource {
        func user(_ userID: String, has permission: Permission) async throws -> Bool {
            switch (userID, permission.name) {
            case ("ada", "staff"), ("bob", "ops.read"), ("bob", "ops.write"), ("cy", "ops.read"), ("root", "admin"): true
            default: false
            }
        }
    }

    /// Connects as `?user=`, and serves the built-in channel handlers.
    struct Rooms: WebSocketController {
        let routeKey = RouteKey.default
        func connect(_ context: ConnectContext) async throws -> ConnectDecision {
            if context.queryParameter("pick") == "secret" {
                return .accept(channel: ChannelName("secret"), userID: context.queryParameter("user"))
            }
            return .accept(userID: context.queryParameter("user"))
        }
        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.addChannelHandlers()
            handlers.onRaw("default") { _, _ in }
        }
    }

    func harness(_ channels: ChannelConfiguration, rules: [ChannelRule] = []) async throws -> Harness {
        var configuration = GatewayConfiguration(secrets: ["s3cret"])
        configuration.channels = channels
        let harness = try Harness(configuration: configuration, controllers: [Rooms()], permissions: Roles())
        for rule in rules { try await harness.store.saveChannelRule(rule) }
        return harness
    }

    func join(_ connection: FakeConnection, _ channel: String) async throws -> GatewayResponse {
        try await connection.send(#"{"action":"join","channel":"\#(channel)"}"#)
    }

    static let rules = [
        ChannelRule(channel: ChannelName("open"), access: .everyone),
        ChannelRule(channel: ChannelName("members"), access: .authenticated),
        ChannelRule(channel: ChannelName("staff"), access: .staff),
        ChannelRule(channel: ChannelName("admins"), access: .admin),
        ChannelRule(channel: ChannelName("ops"), access: .permissionSets([["ops.read", "ops.write"], ["admin"]])),
    ]

    @Test func everyRuleStatusByStatus() async throws {
        let harness = try await harness(ChannelConfiguration(unlisted: .deny), rules: Self.rules)
        let channels = ["open", "members", "staff", "admins", "ops", "unlisted"]
        func statuses(_ user: String?) async throws -> [Int] {
            let connection = try await harness.connected(query: user.map { ["user": $0] } ?? [:])
            var statuses: [Int] = []
            for channel in channels { statuses.append(try await join(connection, channel).status.code) }
            return statuses
        }
        #expect(try await statuses(nil) == [200, 401, 401, 401, 401, 403])
        #expect(try await statuses("dan") == [200, 200, 403, 403, 403, 403])
        #expect(try await statuses("ada") == [200, 200, 200, 403, 403, 403], "staff")
        #expect(try await statuses("root") == [200, 200, 200, 200, 200, 403], "an administrator is staff, and a set of its own")
        #expect(try await statuses("bob") == [200, 200, 403, 403, 200, 403], "both permissions of one set")
        #expect(try await statuses("cy") == [200, 200, 403, 403, 403, 403], "half of a set is not enough")
    }

    @Test func theUnlistedPolicyIsExplicitAndARefusalSaysWhy() async throws {
        let open = try await harness(ChannelConfiguration(unlisted: .allow))
        #expect(try await join(try await open.connected(), "anything").status == .ok)
        let closed = try await harness(ChannelConfiguration(unlisted: .deny))
        let connection = try await closed.connected(query: ["user": "root"])
        let refused = try await join(connection, "anything")
        #expect(refused.status == .forbidden && refused.reason == "Channel not open")
        #expect(try await closed.store.channels(of: connection.id, apiID: apiID).isEmpty)
    }

    @Test func theHookDecidesBeforeTheRules() async throws {
        let hook: @Sendable (ChannelJoin) async throws -> ChannelDecision = { join in
            if join.channel.rawValue.hasPrefix("dm-") {
                return join.userID.map { join.channel.rawValue.contains($0) } == true ? .allow : .deny("Not your conversation")
            }
            return .useRules
        }
        let harness = try await harness(ChannelConfiguration(unlisted: .deny, canJoin: hook), rules: Self.rules)
        let ada = try await harness.connected(query: ["user": "ada"])
        #expect(try await join(ada, "dm-ada-bob").status == .ok, "the hook allows what the policy denies")
        let denied = try await join(ada, "dm-bob-cy")
        #expect(denied.status == .forbidden && denied.reason == "Not your conversation")
        #expect(try await join(ada, "staff").status == .ok, "useRules defers to the rule")
        #expect(try await join(ada, "admins").status == .forbidden)
    }

    @Test func connectChecksTheClientsChannelNotTheHooks() async throws {
        let harness = try await harness(ChannelConfiguration(unlisted: .deny), rules: Self.rules)
        let refused = try await harness.gateway.connect(query: ["user": "dan", "channel": "staff"])
        #expect(refused.connectResponse.status == .forbidden)
        #expect(try await harness.store.session(refused.id) == nil, "a refused connect records nothing")
        let picked = try await harness.connected(query: ["user": "dan", "pick": "secret"])
        #expect(try await harness.store.channels(of: picked.id, apiID: apiID) == [ChannelName("secret")])
        let ada = try await harness.connected(query: ["user": "ada", "channel": "staff"])
        #expect(try await harness.store.channels(of: ada.id, apiID: apiID) == [ChannelName("staff")])
    }

    // The gateway's default channel skipped the rules: omitting ?channel= got a client into a
    // guarded room that naming it would not.
    @Test func theDefaultChannelIsCheckedToo() async throws {
        var configuration = GatewayConfiguration(secrets: ["s3cret"])
        configuration.channels = ChannelConfiguration(unlisted: .allow)
        let records = [GatewayRecord(apiID: apiID, stage: "dev", region: "eu-west-1", defaultChannel: ChannelName("staff"))]
        let harness = try Harness(configuration: configuration, records: records, controllers: [Rooms()], permissions: Roles())
        try await harness.store.saveChannelRule(ChannelRule(channel: ChannelName("staff"), access: .staff))
        #expect(try await harness.gateway.connect(query: ["user": "dan"]).connectResponse.status == .forbidden)
        let ada = try await harness.connected(query: ["user": "ada"])
        #expect(try await harness.store.channels(of: ada.id, apiID: apiID) == [ChannelName("staff")])
    }

    @Test func changingToTheChannelOneIsInChangesNothing() async throws {
        let harness = try await harness(ChannelConfiguration(unlisted: .allow, presenceEvents: true))
        let member = try await harness.connected(query: ["user": "bob", "channel": "room"])
        let ada = try await harness.connected(query: ["user": "ada", "channel": "room"])
        _ = try await join(ada, "other")
        harness.poster.reset()
        #expect(try await ada.send(#"{"action":"change-channel","channel":"room"}"#).status == .ok)
        #expect(try await harness.store.channels(of: ada.id, apiID: apiID) == [ChannelName("room")], "out of the others, still in room")
        let events = harness.poster.texts(to: member.id).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
        }
        #expect(events.isEmpty, "the room hears no second join: \(events)")
    }

    @Test func aJoinForAConnectionThatIsGoneIsRefused() async throws {
        let harness = try await harness(ChannelConfiguration(unlisted: .allow))
        let connection = try await harness.connected()
        let session = try #require(try await harness.store.session(connection.id))
        try await connection.disconnect()
        await #expect(throws: Refusal.self) { try await harness.dispatcher.channels.join(ChannelName("late"), session: session) }
    }

    @Test func aConnectionIsInSeveralChannelsUpToTheLimit() async throws {
        let harness = try await harness(ChannelConfiguration(unlisted: .allow, maximumPerConnection: 3))
        let connection = try await harness.connected(query: ["channel": "a"])
        #expect(try await join(connection, "b").status == .ok)
        #expect(try await join(connection, "b").status == .ok, "joining twice is fine")
        #expect(try await join(connection, "c").status == .ok)
        let full = try await join(connection, "d")
        #expect(full.status == .badRequest && full.reason == "Too many channels")
        try await connection.send(#"{"action":"leave","channel":"a"}"#)
        #expect(try await join(connection, "d").status == .ok, "leaving makes room")
        harness.poster.reset()
        try await connection.send(#"{"action":"channels"}"#)
        let listed = try JSONSerialization.jsonObject(with: Data(harness.poster.texts(to: connection.id)[0].utf8)) as? [String: Any]
        #expect(listed?["channels"] as? [String] == ["b", "c", "d"])
        try await connection.send(#"{"action":"change-channel","channel":"z"}"#)
        #expect(try await harness.store.channels(of: connection.id, apiID: apiID) == [ChannelName("z")])
        // A message whose channel is not a valid name is refused with the field.
        let invalid = try await connection.send(#"{"action":"join","channel":"has space"}"#)
        #expect(invalid.status == .badRequest)
    }

    @Test func aRefusedChangeLeavesTheConnectionWhereItWas() async throws {
        let harness = try await harness(ChannelConfiguration(unlisted: .allow), rules: Self.rules)
        let connection = try await harness.connected(query: ["user": "dan", "channel": "a"])
        #expect(try await connection.send(#"{"action":"change-channel","channel":"staff"}"#).status == .forbidden)
        #expect(try await harness.store.channels(of: connection.id, apiID: apiID) == [ChannelName("a")])
    }

    @Test func presenceEventsReachTheChannelWhenOn() async throws {
        let quiet = try await harness(ChannelConfiguration(unlisted: .allow))
        let listener = try await quiet.connected(query: ["channel": "room"])
        quiet.poster.reset()
        _ = try await join(try await quiet.connected(query: ["user": "ada"]), "room")
        #expect(quiet.poster.texts(to: listener.id).isEmpty, "off by default")

        let loud = try await harness(ChannelConfiguration(unlisted: .allow, presenceEvents: true))
        let member = try await loud.connected(query: ["user": "bob", "channel": "room"])
        let ada = try await loud.connected(query: ["user": "ada"])
        loud.poster.reset()
        _ = try await join(ada, "room")
        let events = loud.poster.texts(to: member.id).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
        }
        #expect(events == [["type": "presence", "event": "joined", "channel": "room", "user": "ada", "connectionId": ada.id.rawValue]])
        loud.poster.reset()
        try await ada.disconnect()
        let left = loud.poster.texts(to: member.id).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
        }
        #expect(left.map { $0["event"] } == ["left"] && left.first?["user"] == "ada")
        let count = try await loud.dispatcher.channels.count(of: ChannelName("room"), apiID: apiID)
        #expect(count == ChannelCount(channel: ChannelName("room"), connections: 1, users: 1))
    }
}

/// A rule change applies to the channel's current members, not only to later joins.
@Suite struct RuleChangeTests {
    func events(_ harness: Harness, to id: ConnectionID) -> [[String: String]] {
        harness.poster.texts(to: id).compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
    }

    // After the admin limited `ops` to staff, bob's existing connection kept receiving, posting to
    // and listing it; only new joins were refused.
    @Test func restrictingAChannelRemovesTheMembersWhoMayNoLongerJoin() async throws {
        let harness = try await ChannelTests().harness(ChannelConfiguration(unlisted: .allow, presenceEvents: true))
        let ada = try await harness.connected(query: ["user": "ada", "channel": "ops"])  // staff
        let bob = try await harness.connected(query: ["user": "bob", "channel": "ops"])
        let anonymous = try await harness.connected(query: ["channel": "ops"])
        let elsewhere = try await harness.connected(query: ["user": "cy", "channel": "lobby"])
        harness.poster.reset()
        let ops = ChannelName("ops")
        let removed = try await harness.dispatcher.channels.saveRule(ChannelRule(channel: ops, access: .staff))
        #expect(removed == 2, "bob and the anonymous connection")
        #expect(try await harness.store.channels(of: bob.id, apiID: apiID).isEmpty)
        #expect(try await harness.store.channels(of: anonymous.id, apiID: apiID).isEmpty)
        #expect(try await harness.store.channels(of: ada.id, apiID: apiID) == [ops], "staff stays")
        #expect(try await harness.store.channels(of: elsewhere.id, apiID: apiID) == [ChannelName("lobby")], "another room is untouched")
        #expect(
            events(harness, to: bob.id).contains(["type": "removed", "channel": "ops", "reason": "Permission denied"]),
            "\(events(harness, to: bob.id))")
        let left = events(harness, to: ada.id).filter { $0["event"] == "left" }.compactMap { $0["connectionId"] }
        #expect(Set(left) == [bob.id.rawValue, anonymous.id.rawValue], "the room hears who left")
        // bob no longer hears the room, and cannot rejoin.
        harness.poster.reset()
        _ = try await harness.dispatcher.messenger.send(
            try Payload(text: "for staff"), to: .channel(ops), on: GatewayRecord(apiID: apiID, stage: "dev", region: "eu-west-1"))
        #expect(harness.poster.texts(to: bob.id).isEmpty)
        #expect(try await ChannelTests().join(bob, "ops").status == .forbidden)
    }

    // Docs/Refusals.md said the gateway's default channel was not checked; the code checks it
    // (only a channel the connect hook chose is the app's word): this pins what the docs now say.
    @Test func theGatewaysDefaultChannelIsCheckedLikeTheClientsOwn() async throws {
        var configuration = GatewayConfiguration(secrets: ["s3cret"])
        configuration.channels = ChannelConfiguration(unlisted: .allow)
        let record = GatewayRecord(apiID: apiID, stage: "dev", region: "eu-west-1", defaultChannel: ChannelName("staff"))
        let harness = try Harness(
            configuration: configuration, records: [record], controllers: [ChannelTests.Rooms()], permissions: ChannelTests.Roles())
        try await harness.store.saveChannelRule(ChannelRule(channel: ChannelName("staff"), access: .staff))
        #expect(try await harness.gateway.connect(query: ["user": "bob"]).connectResponse.status == .forbidden, "bob is not staff")
        let ada = try await harness.connected(query: ["user": "ada"])
        #expect(try await harness.store.channels(of: ada.id, apiID: apiID) == [ChannelName("staff")])
        #expect(try await harness.gateway.connect(query: ["user": "bob", "channel": "lobby"]).isAccepted, "a channel of the client's own")
    }

    @Test func removingARuleAppliesTheUnlistedPolicyToMembers() async throws {
        let staff = ChannelRule(channel: ChannelName("ops"), access: .staff)
        let harness = try await ChannelTests().harness(ChannelConfiguration(unlisted: .deny), rules: [staff])
        let ada = try await harness.connected(query: ["user": "ada", "channel": "ops"])
        let (existed, removed) = try await harness.dispatcher.channels.removeRule(for: ChannelName("ops"))
        #expect(existed && removed == 1, "unlisted channels are denied: ada goes too")
        #expect(try await harness.store.channels(of: ada.id, apiID: apiID).isEmpty)
        #expect(try await harness.dispatcher.channels.removeRule(for: ChannelName("ops")) == (false, 0))
    }
}

/// A login's state tied to its connections: a change refuses the next message 401 and closes
/// the connection; a user without a state cannot connect.
@Suite struct AuthStateTests {
    final class Accounts: AuthStateSource {
        let states = Mutex<[String: String]>(["ada": "hash-1", "bob": "hash-1"])
        let lookups = Atomic<Int>(0)
        func authState(ofUser userID: String) async throws -> String? {
            lookups.add(1, ordering: .relaxed)
            return states.withLock { $0[userID] }
        }
    }

    struct Anyone: WebSocketController {
        let routeKey = RouteKey.default
        func connect(_ context: ConnectContext) async throws -> ConnectDecision { .accept(userID: context.queryParameter("user")) }
        func handlers(_ handlers: inout HandlerRegistry) { handlers.onRaw("default") { _, _ in } }
    }

    func harness(_ accounts: Accounts, lifetime: Duration) throws -> Harness {
        var configuration = GatewayConfiguration(secrets: ["s3cret"])
        configuration.authStateLifetime = lifetime
        return try Harness(configuration: configuration, controllers: [Anyone()], authState: accounts)
    }

    @Test func aChangedStateRefusesTheNextMessageAndClosesTheConnection() async throws {
        let accounts = Accounts()
        let harness = try harness(accounts, lifetime: .zero)
        let ada = try await harness.connected(query: ["user": "ada"])
        let bob = try await harness.connected(query: ["user": "bob"])
        #expect(try await harness.store.session(ada.id)?.authStateHash == ConnectionTokens.hash("hash-1"))
        #expect(try await ada.send("hi").status == .ok)
        accounts.states.withLock { $0["ada"] = "hash-2" }
        let refused = try await ada.send("hi")
        #expect(refused.status == .unauthorized && refused.reason == "Login no longer valid")
        #expect(harness.poster.closed == [ada.id], "the connection is deleted")
        #expect(try await bob.send("hi").status == .ok, "another user's connections are untouched")
        accounts.states.withLock { $0["bob"] = nil }  // deactivated
        #expect(try await bob.send("hi").status == .unauthorized)
        #expect(try await harness.gateway.connect(query: ["user": "bob"]).connectResponse.status == .unauthorized, "no state, no connect")
        let anonymous = try await harness.connected()
        #expect(try await anonymous.send("hi").status == .ok, "a connection without a user has no login to check")
    }

    // The admin and the token endpoint asked only "logged in?": a web session from before a
    // password change kept opening them.
    @Test func aLoginHoldsOnlyWhileItsStateIsTheCurrentOne() async throws {
        let accounts = Accounts()
        let harness = try harness(accounts, lifetime: .zero)
        let made = ConnectionTokens.hash("hash-1")
        #expect(try await harness.dispatcher.loginHolds(AuthenticatedUser(id: "ada", authStateHash: made)))
        #expect(try await harness.dispatcher.loginHolds(AuthenticatedUser(id: "ada")), "a login that kept no state: the user must exist")
        accounts.states.withLock { $0["ada"] = "hash-2" }
        #expect(try await !harness.dispatcher.loginHolds(AuthenticatedUser(id: "ada", authStateHash: made)), "the password changed")
        accounts.states.withLock { $0["ada"] = nil }
        #expect(try await !harness.dispatcher.loginHolds(AuthenticatedUser(id: "ada")), "deactivated")
        let noSource = try Harness()
        #expect(
            try await noSource.dispatcher.loginHolds(AuthenticatedUser(id: "anyone", authStateHash: "x")), "no source: every login holds")
    }

    // A session with a user but no recorded state (opened before the app kept states, or migrated)
    // passed every later check.
    @Test func aSessionWithoutARecordedStateIsRefused() async throws {
        let accounts = Accounts()
        let harness = try harness(accounts, lifetime: .zero)
        let id = try ConnectionID("migrated-session=")
        _ = try await harness.store.connect(
            Session(connectionID: id, apiID: apiID, stage: "dev", userID: "ada", createdAt: Date()), joining: nil)
        let connection = FakeConnection(id: id, gateway: harness.gateway, connectResponse: GatewayResponse(status: .ok))
        #expect(try await connection.send("hi").status == .unauthorized)
        #expect(harness.poster.closed == [id])
    }

    @Test func aBurstCostsOneLookupPerLifetime() async throws {
        let accounts = Accounts()
        let harness = try harness(accounts, lifetime: .seconds(60))
        let ada = try await harness.connected(query: ["user": "ada"])
        for _ in 0..<20 { #expect(try await ada.send("hi").status == .ok) }
        #expect(accounts.lookups.load(ordering: .relaxed) == 1, "the connect's lookup serves the burst")
        accounts.states.withLock { $0["ada"] = "hash-2" }
        #expect(try await ada.send("hi").status == .ok, "within the lifetime the old state is trusted")
        _ = try await harness.dispatcher.closeConnections(ofUser: "ada")
        let again = try await harness.connected(query: ["user": "ada"])
        #expect(
            try await harness.store.session(again.id)?.authStateHash == ConnectionTokens.hash("hash-2"), "closing forgets the cached state")
    }
}
