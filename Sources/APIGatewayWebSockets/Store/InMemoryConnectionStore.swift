import APIGatewayAWS
public import Foundation
import Synchronization

/// A ``ConnectionStore`` and ``IdentityStore`` in this process's memory, for tests and single-process tools.
///
/// It forgets everything when the process ends and is not shared between backends: production
/// uses the Fluent store.
public final class InMemoryConnectionStore: ConnectionStore {
    private let sessions = Mutex<[ConnectionID: Session]>([:])
    let identity = Mutex<(tokens: [String: (token: ConnectionToken, used: Bool)], hits: [String: [Date]])>(([:], [:]))

    public init() {}

    public func connect(_ session: Session) async throws -> ConnectOutcome {
        sessions.withLock { sessions in
            guard var existing = sessions[session.connectionID] else {
                sessions[session.connectionID] = session
                return .created
            }
            guard existing.connected, existing.apiID == session.apiID else { return .alreadyClosed }
            existing.channel = session.channel
            existing.userID = session.userID
            existing.webSessionHash = session.webSessionHash
            existing.updatedAt = session.updatedAt
            sessions[session.connectionID] = existing
            return .retried
        }
    }

    public func disconnect(_ id: ConnectionID, apiID: APIID, at date: Date) async throws -> Bool {
        sessions.withLock { sessions in
            guard var session = sessions[id], session.apiID == apiID, session.connected else { return false }
            session.connected = false
            session.updatedAt = date
            sessions[id] = session
            return true
        }
    }

    public func touch(_ id: ConnectionID, apiID: APIID, at date: Date) async throws -> Session? {
        sessions.withLock { sessions in
            guard var session = sessions[id], session.apiID == apiID, session.connected else { return nil }
            session.requestCount += 1
            session.updatedAt = date
            sessions[id] = session
            return session
        }
    }

    public func session(_ id: ConnectionID) async throws -> Session? {
        sessions.withLock { $0[id] }
    }

    public func setChannel(_ channel: ChannelName?, for id: ConnectionID, apiID: APIID, at date: Date) async throws -> Bool {
        sessions.withLock { sessions in
            guard var session = sessions[id], session.apiID == apiID, session.connected else { return false }
            session.channel = channel
            session.updatedAt = date
            sessions[id] = session
            return true
        }
    }

    public func audience(_ audience: Audience, apiID: APIID, after: ConnectionID?, limit: Int) async throws -> [ConnectionID] {
        sessions.withLock { sessions in
            var matches: [ConnectionID] = []
            for session in sessions.values where session.connected && session.apiID == apiID {
                if let after, session.connectionID <= after { continue }
                switch audience.kind {
                case .connection(let id): if session.connectionID != id { continue }
                case .channel(let channel): if session.channel != channel { continue }
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
        sessions.withLock { sessions in
            var count = 0
            for id in ids {
                guard var session = sessions[id], session.apiID == apiID, session.connected else { continue }
                session.connected = false
                session.updatedAt = date
                sessions[id] = session
                count += 1
            }
            return count
        }
    }

    public func connectedSessions(of owner: SessionOwner) async throws -> [Session] {
        sessions.withLock { $0.values.filter { $0.connected && owner.owns($0) }.sorted { $0.connectionID < $1.connectionID } }
    }

    public func disconnectSessions(createdBefore date: Date, at now: Date) async throws -> Int {
        sessions.withLock { sessions in
            let expired = sessions.values.filter { $0.connected && $0.createdAt < date }.map(\.connectionID)
            for id in expired {
                sessions[id]?.connected = false
                sessions[id]?.updatedAt = now
            }
            return expired.count
        }
    }

    public func purgeDisconnected(before date: Date) async throws -> Int {
        sessions.withLock { sessions in
            let doomed = sessions.values.filter { !$0.connected && $0.updatedAt < date }.map(\.connectionID)
            for id in doomed { sessions[id] = nil }
            return doomed.count
        }
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
