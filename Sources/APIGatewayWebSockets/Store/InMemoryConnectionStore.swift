import APIGatewayAWS
public import Foundation
import Synchronization

/// A ``ConnectionStore``, ``IdentityStore`` and ``ChannelRuleStore`` in this process's memory, for tests and single-process tools.
///
/// It forgets everything when the process ends and is not shared between backends: production
/// uses the Fluent store.
public final class InMemoryConnectionStore: ConnectionStore {
    private struct State {
        var sessions: [ConnectionID: Session] = [:]
        /// Each connection's channels, with when it joined them.
        var members: [ConnectionID: [ChannelName: Date]] = [:]

        func isLive(_ id: ConnectionID, on apiID: APIID) -> Bool {
            guard let session = sessions[id] else { return false }
            return session.connected && session.apiID == apiID
        }
    }

    private let state = Mutex(State())
    let identity = Mutex<(tokens: [String: (token: ConnectionToken, used: Bool)], hits: [String: [Date]])>(([:], [:]))
    let rules = Mutex<[ChannelName: ChannelRule]>([:])
    let streams = Mutex(InMemoryStreams())

    public init() {}

    public func connect(_ session: Session, joining channel: ChannelName?) async throws -> ConnectOutcome {
        state.withLock { state in
            let outcome: ConnectOutcome
            if var existing = state.sessions[session.connectionID] {
                guard existing.connected, existing.apiID == session.apiID else { return .alreadyClosed }
                existing.userID = session.userID
                existing.webSessionHash = session.webSessionHash
                existing.authStateHash = session.authStateHash
                existing.updatedAt = session.updatedAt
                state.sessions[session.connectionID] = existing
                outcome = .retried
            } else {
                state.sessions[session.connectionID] = session
                outcome = .created
            }
            state.members[session.connectionID] = channel.map { [$0: session.createdAt] }
            return outcome
        }
    }

    public func disconnect(_ id: ConnectionID, apiID: APIID, at date: Date) async throws -> Session? {
        state.withLock { state in
            guard state.isLive(id, on: apiID) else { return nil }
            let before = state.sessions[id]
            state.sessions[id]!.connected = false
            state.sessions[id]!.updatedAt = date
            return before
        }
    }

    public func touch(_ id: ConnectionID, apiID: APIID, at date: Date) async throws -> Session? {
        state.withLock { state in
            guard state.isLive(id, on: apiID) else { return nil }
            state.sessions[id]!.requestCount += 1
            state.sessions[id]!.updatedAt = date
            return state.sessions[id]
        }
    }

    public func session(_ id: ConnectionID) async throws -> Session? {
        state.withLock { $0.sessions[id] }
    }

    public func sessions(_ filter: SessionFilter, after: ConnectionID?, limit: Int) async throws -> [Session] {
        state.withLock { state in
            let matching = state.sessions.values.filter { session in
                (after.map { session.connectionID > $0 } ?? true) && (filter.apiID.map { session.apiID == $0 } ?? true)
                    && (filter.userID.map { session.userID == $0 } ?? true)
                    && (filter.connected.map { session.connected == $0 } ?? true)
                    && (filter.channel.map { state.members[session.connectionID]?[$0] != nil } ?? true)
            }
            return Array(matching.sorted { $0.connectionID < $1.connectionID }.prefix(max(0, limit)))
        }
    }

    public func join(_ channel: ChannelName, connection id: ConnectionID, apiID: APIID, limit: Int, at date: Date) async throws
        -> JoinOutcome
    {
        state.withLock { state in
            guard state.isLive(id, on: apiID) else { return .notConnected }
            var channels = state.members[id, default: [:]]
            if channels[channel] != nil { return .alreadyMember }
            guard channels.count < limit else { return .full }
            channels[channel] = date
            state.members[id] = channels
            return .joined
        }
    }

    public func leave(_ channel: ChannelName, connection id: ConnectionID, apiID: APIID) async throws -> Bool {
        state.withLock { state in
            guard state.sessions[id]?.apiID == apiID else { return false }
            return state.members[id]?.removeValue(forKey: channel) != nil
        }
    }

    public func leaveAll(_ id: ConnectionID, apiID: APIID) async throws -> [ChannelName] {
        state.withLock { state in
            guard state.sessions[id]?.apiID == apiID else { return [] }
            return (state.members.removeValue(forKey: id) ?? [:]).keys.sorted()
        }
    }

    public func channels(of id: ConnectionID, apiID: APIID) async throws -> [ChannelName] {
        state.withLock { state in
            guard state.sessions[id]?.apiID == apiID else { return [] }
            return (state.members[id] ?? [:]).keys.sorted()
        }
    }

    public func members(of channel: ChannelName, apiID: APIID, after: ConnectionID?, limit: Int) async throws -> [ChannelMember] {
        state.withLock { state in
            var members: [ChannelMember] = []
            for (id, channels) in state.members {
                guard let joined = channels[channel], state.isLive(id, on: apiID) else { continue }
                if let after, id <= after { continue }
                members.append(ChannelMember(connectionID: id, userID: state.sessions[id]!.userID, joinedAt: joined))
            }
            members.sort { $0.connectionID < $1.connectionID }
            return Array(members.prefix(limit))
        }
    }

    public func users(in channel: ChannelName, apiID: APIID, limit: Int) async throws -> [String] {
        state.withLock { state in
            var users = Set<String>()
            for (id, channels) in state.members where channels[channel] != nil && state.isLive(id, on: apiID) {
                if let user = state.sessions[id]!.userID { users.insert(user) }
            }
            return Array(users.sorted().prefix(limit))
        }
    }

    public func count(of channel: ChannelName, apiID: APIID) async throws -> ChannelCount {
        try await channelCounts(apiID: apiID, only: channel).first ?? ChannelCount(channel: channel, connections: 0, users: 0)
    }

    public func channelCounts(apiID: APIID) async throws -> [ChannelCount] {
        try await channelCounts(apiID: apiID, only: nil)
    }

    private func channelCounts(apiID: APIID, only: ChannelName?) async throws -> [ChannelCount] {
        state.withLock { state in
            var connections: [ChannelName: Int] = [:]
            var users: [ChannelName: Set<String>] = [:]
            for (id, channels) in state.members where state.isLive(id, on: apiID) {
                for channel in channels.keys where only == nil || channel == only {
                    connections[channel, default: 0] += 1
                    if let user = state.sessions[id]!.userID { users[channel, default: []].insert(user) }
                }
            }
            return connections.keys.sorted().map { ChannelCount(channel: $0, connections: connections[$0]!, users: users[$0]?.count ?? 0) }
        }
    }

    public func audience(_ audience: Audience, apiID: APIID, after: ConnectionID?, limit: Int) async throws -> [ConnectionID] {
        state.withLock { state in
            var matches: [ConnectionID] = []
            for session in state.sessions.values where session.connected && session.apiID == apiID {
                if let after, session.connectionID <= after { continue }
                switch audience.kind {
                case .connection(let id): if session.connectionID != id { continue }
                case .channel(let channel): if state.members[session.connectionID]?[channel] == nil { continue }
                case .user(let user): if session.userID != user { continue }
                case .everyone: break
                }
                matches.append(session.connectionID)
            }
            matches.sort()
            return Array(matches.prefix(limit))
        }
    }

    public func markGone(_ ids: [ConnectionID], apiID: APIID, at date: Date) async throws -> Int {
        state.withLock { state in
            var count = 0
            for id in ids where state.isLive(id, on: apiID) {
                state.sessions[id]!.connected = false
                state.sessions[id]!.updatedAt = date
                count += 1
            }
            return count
        }
    }

    public func connectedCount(apiID: APIID?) async throws -> Int {
        state.withLock { state in state.sessions.values.count { session in session.connected && (apiID == nil || session.apiID == apiID) } }
    }

    public func connectedSessions(of owner: SessionOwner) async throws -> [Session] {
        state.withLock { $0.sessions.values.filter { $0.connected && owner.owns($0) }.sorted { $0.connectionID < $1.connectionID } }
    }

    public func disconnectSessions(createdBefore date: Date, at now: Date) async throws -> Int {
        state.withLock { state in
            let expired = state.sessions.values.filter { $0.connected && $0.createdAt < date }.map(\.connectionID)
            for id in expired {
                state.sessions[id]!.connected = false
                state.sessions[id]!.updatedAt = now
            }
            return expired.count
        }
    }

    public func purgeDisconnected(before date: Date) async throws -> Int {
        state.withLock { state in
            let doomed = state.sessions.values.filter { !$0.connected && $0.updatedAt < date }.map(\.connectionID)
            for id in doomed {
                state.sessions[id] = nil
                state.members[id] = nil
            }
            return doomed.count
        }
    }
}

extension InMemoryConnectionStore: ChannelRuleStore {
    public func channelRule(for channel: ChannelName) async throws -> ChannelRule? { rules.withLock { $0[channel] } }

    public func channelRules() async throws -> [ChannelRule] {
        rules.withLock { $0.values.sorted { $0.channel < $1.channel } }
    }

    public func saveChannelRule(_ rule: ChannelRule) async throws { rules.withLock { $0[rule.channel] = rule } }

    public func deleteChannelRule(for channel: ChannelName) async throws -> Bool {
        rules.withLock { $0.removeValue(forKey: channel) != nil }
    }
}

extension InMemoryConnectionStore: IdentityStore {
    public func issue(_ token: ConnectionToken) async throws {
        identity.withLock { $0.tokens[token.hash] = (token, used: false) }
    }

    public func token(hash: String, at date: Date) async throws -> ConnectionToken? {
        identity.withLock { identity in
            guard let (token, used) = identity.tokens[hash], !used, token.expiresAt > date else { return nil }
            return token
        }
    }

    public func consumeToken(hash: String, at date: Date) async throws -> ConnectionToken? {
        identity.withLock { identity in
            guard let (token, used) = identity.tokens[hash], !used, token.expiresAt > date else { return nil }
            identity.tokens[hash] = (token, used: true)
            return token
        }
    }

    public func purgeTokens(expiredBefore date: Date) async throws -> Int {
        identity.withLock { identity in
            let expired = identity.tokens.filter { $0.value.token.expiresAt < date }.map(\.key)
            for hash in expired { identity.tokens[hash] = nil }
            return expired.count
        }
    }

    public func hit(_ key: String, at date: Date, window: Duration, limit: Int) async throws -> Bool {
        let start = date.addingTimeInterval(-window.timeInterval)
        return identity.withLock { identity in
            var hits = identity.hits[key, default: []]
            hits.removeAll { $0 <= start }
            guard hits.count < limit else {
                identity.hits[key] = hits
                return false
            }
            hits.append(date)
            identity.hits[key] = hits
            return true
        }
    }

    public func liveTokens(at date: Date, limit: Int) async throws -> [ConnectionToken] {
        identity.withLock { identity in
            let live = identity.tokens.values.filter { !$0.used && $0.token.expiresAt > date }.map(\.token)
            return Array(live.sorted { ($0.createdAt, $0.hash) > ($1.createdAt, $1.hash) }.prefix(max(0, limit)))
        }
    }

    public func revokeTokens(ofWebSession sessionHash: String) async throws -> Int {
        guard !sessionHash.isEmpty else { return 0 }
        return identity.withLock { identity in
            let live = identity.tokens.filter { !$0.value.used && $0.value.token.sessionHash == sessionHash }.map(\.key)
            for hash in live { identity.tokens[hash]?.used = true }
            return live.count
        }
    }

    public func revokeToken(hash: String) async throws -> Bool {
        identity.withLock { identity in
            guard let (token, used) = identity.tokens[hash], !used else { return false }
            identity.tokens[hash] = (token, used: true)
            return true
        }
    }

    public func hitCounts(after date: Date, limit: Int) async throws -> [HitCount] {
        identity.withLock { identity in
            let counts = identity.hits.compactMap { key, hits -> HitCount? in
                let recent = hits.filter { $0 > date }
                guard let latest = recent.max() else { return nil }
                return HitCount(key: key, hits: recent.count, latest: latest)
            }
            return Array(counts.sorted { ($0.hits, $1.key) > ($1.hits, $0.key) }.prefix(max(0, limit)))
        }
    }

    public func clearHits(key: String) async throws -> Int {
        identity.withLock { $0.hits.removeValue(forKey: key)?.count ?? 0 }
    }

    public func purgeHits(before date: Date) async throws -> Int {
        identity.withLock { identity in
            var purged = 0
            for (key, hits) in identity.hits {
                let kept = hits.filter { $0 >= date }
                purged += hits.count - kept.count
                identity.hits[key] = kept.isEmpty ? nil : kept
            }
            return purged
        }
    }
}
