public import APIGatewayWebSockets

/// What every ``ChannelRuleStore`` must do, as checks to run against a fresh store each:
///
/// ```swift
/// @Test(arguments: ChannelRuleStoreConformance.checks)
/// func conformance(_ check: ChannelRuleStoreConformance.Check) async throws {
///     try await check.run(MyStore())
/// }
/// ```
public enum ChannelRuleStoreConformance {
    public struct Check: Sendable, CustomStringConvertible {
        public let name: String
        let body: @Sendable (any ChannelRuleStore) async throws -> Void
        public func run(_ store: any ChannelRuleStore) async throws { try await body(store) }
        public var description: String { name }
    }

    static func channel(_ name: String) -> ChannelName { try! ChannelName(name) }

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConnectionStoreConformance.ConformanceFailure(description: message()) }
    }

    public static let checks: [Check] = [
        Check(name: "every kind of rule is kept as saved") { store in
            let rules = [
                ChannelRule(channel: channel("a-open"), access: .everyone),
                ChannelRule(channel: channel("b-members"), access: .authenticated),
                ChannelRule(channel: channel("c-staff"), access: .staff),
                ChannelRule(channel: channel("d-admin"), access: .admin),
                ChannelRule(channel: channel("e-ops"), access: .permissionSets([["ops.read", "ops.write"], ["admin"]])),
            ]
            for rule in rules.reversed() { try await store.saveChannelRule(rule) }
            for rule in rules {
                let loaded = try await store.channelRule(for: rule.channel)
                try expect(loaded == rule, "\(rule.channel): loaded \(String(describing: loaded?.access)), saved \(rule.access)")
            }
            let all = try await store.channelRules()
            try expect(all == rules, "every rule, by channel name: \(all.map(\.channel))")
            try expect(try await store.channelRule(for: channel("unnamed")) == nil, "no rule names an unnamed channel")
        },
        Check(name: "saving again replaces; deleting answers whether there was one") { store in
            try await store.saveChannelRule(ChannelRule(channel: channel("room"), access: .staff))
            try await store.saveChannelRule(ChannelRule(channel: channel("room"), access: .admin))
            try expect(try await store.channelRule(for: channel("room"))?.access == .admin, "the second save wins")
            try expect(try await store.channelRules().count == 1, "one rule per channel")
            try expect(try await store.deleteChannelRule(for: channel("room")), "there was one")
            try expect(try await store.deleteChannelRule(for: channel("room")) == false, "there is none now")
            try expect(try await store.channelRule(for: channel("room")) == nil, "gone")
        },
    ]
}
