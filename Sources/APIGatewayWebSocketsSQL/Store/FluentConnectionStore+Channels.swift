public import APIGatewayWebSockets
public import Foundation
import SQLKit

/// Channel memberships and rules. A membership row lives as long as its session's row; every read
/// of members joins the session, so a connection that is gone or swept leaves every audience and
/// count at once, whichever instance marked it.
///
/// A join's limit is an `INSERT … SELECT … WHERE (count) < limit`: atomic on SQLite, whose writes
/// are serialized; on PostgreSQL it runs under the connection's advisory lock, in a transaction.
extension FluentConnectionStore {
    private static let sessions = SessionModel.schema
    private static let rules = CreateChannelTables.rules

    public func join(_ channel: ChannelName, connection id: ConnectionID, apiID: APIID, limit: Int, at date: Date) async throws
        -> JoinOutcome
    {
        let (members, sessions) = (Self.members, Self.sessions)
        let inserted = try await serialized(on: "join " + id.rawValue) { sql in
            try await !sql.raw(
                """
                INSERT INTO \(ident: members) (connection_id, channel, api_id, joined_at)
                SELECT \(bind: id.rawValue), \(bind: channel.rawValue), \(bind: apiID.rawValue), \(bind: date.milliseconds)
                WHERE EXISTS (
                        SELECT 1 FROM \(ident: sessions)
                        WHERE connection_id = \(bind: id.rawValue) AND api_id = \(bind: apiID.rawValue) AND connected = \(bind: true))
                  AND (SELECT COUNT(*) FROM \(ident: members) WHERE connection_id = \(bind: id.rawValue)) < \(bind: limit)
                ON CONFLICT (connection_id, channel) DO NOTHING
                RETURNING connection_id
                """
            ).all().isEmpty
        }
        let sql = try sqlDatabase
        if inserted { return .joined }
        // Not joined: say why (a rare path, so a second look is fine).
        let row = try await sql.raw(
            """
            SELECT
                (SELECT COUNT(*) FROM \(ident: Self.sessions)
                 WHERE connection_id = \(bind: id.rawValue) AND api_id = \(bind: apiID.rawValue) AND connected = \(bind: true)) AS live,
                (SELECT COUNT(*) FROM \(ident: Self.members)
                 WHERE connection_id = \(bind: id.rawValue) AND channel = \(bind: channel.rawValue)) AS member
            """
        ).first()
        guard let row, try row.decode(column: "live", as: Int.self) > 0 else { return .notConnected }
        return try row.decode(column: "member", as: Int.self) > 0 ? .alreadyMember : .full
    }

    public func leave(_ channel: ChannelName, connection id: ConnectionID, apiID: APIID) async throws -> Bool {
        try await !sqlDatabase.raw(
            """
            DELETE FROM \(ident: Self.members)
            WHERE connection_id = \(bind: id.rawValue) AND channel = \(bind: channel.rawValue) AND api_id = \(bind: apiID.rawValue)
            RETURNING channel
            """
        ).all().isEmpty
    }

    public func leaveAll(_ id: ConnectionID, apiID: APIID) async throws -> [ChannelName] {
        try await Self.leaveAll(id, apiID: apiID, in: sqlDatabase)
    }

    /// `leaveAll` on `sql`: also a retried connect's, whose new channel replaces them.
    static func leaveAll(_ id: ConnectionID, apiID: APIID, in sql: any SQLDatabase) async throws -> [ChannelName] {
        try await sql.raw(
            """
            DELETE FROM \(ident: Self.members) WHERE connection_id = \(bind: id.rawValue) AND api_id = \(bind: apiID.rawValue)
            RETURNING channel
            """
        ).all().map(Self.channel(from:)).sorted()
    }

    public func channels(of id: ConnectionID, apiID: APIID) async throws -> [ChannelName] {
        try await sqlDatabase.raw(
            """
            SELECT channel FROM \(ident: Self.members)
            WHERE connection_id = \(bind: id.rawValue) AND api_id = \(bind: apiID.rawValue) ORDER BY channel
            """
        ).all().map(Self.channel(from:))
    }

    public func members(of channel: ChannelName, apiID: APIID, after: ConnectionID?, limit: Int) async throws -> [ChannelMember] {
        try await sqlDatabase.raw(
            """
            SELECT m.connection_id, s.user_id, m.joined_at
            FROM \(ident: Self.members) m JOIN \(ident: Self.sessions) s ON s.connection_id = m.connection_id
            WHERE m.api_id = \(bind: apiID.rawValue) AND m.channel = \(bind: channel.rawValue) AND s.connected = \(bind: true)
              AND m.connection_id > \(bind: after?.rawValue ?? "")
            ORDER BY m.connection_id LIMIT \(unsafeRaw: String(max(0, limit)))
            """
        ).all().map { row in
            ChannelMember(
                connectionID: try ConnectionID(try row.decode(column: "connection_id", as: String.self)),
                userID: try row.decode(column: "user_id", as: String?.self),
                joinedAt: Date(milliseconds: try row.decode(column: "joined_at", as: Int64.self)))
        }
    }

    public func users(in channel: ChannelName, apiID: APIID, limit: Int) async throws -> [String] {
        try await sqlDatabase.raw(
            """
            SELECT DISTINCT s.user_id
            FROM \(ident: Self.members) m JOIN \(ident: Self.sessions) s ON s.connection_id = m.connection_id
            WHERE m.api_id = \(bind: apiID.rawValue) AND m.channel = \(bind: channel.rawValue) AND s.connected = \(bind: true)
              AND s.user_id IS NOT NULL
            ORDER BY s.user_id LIMIT \(unsafeRaw: String(max(0, limit)))
            """
        ).all().map { try $0.decode(column: "user_id", as: String.self) }
    }

    public func count(of channel: ChannelName, apiID: APIID) async throws -> ChannelCount {
        try await counts(apiID: apiID, only: channel).first ?? ChannelCount(channel: channel, connections: 0, users: 0)
    }

    public func channelCounts(apiID: APIID) async throws -> [ChannelCount] {
        try await counts(apiID: apiID, only: nil)
    }

    private func counts(apiID: APIID, only channel: ChannelName?) async throws -> [ChannelCount] {
        let filter: SQLQueryString = channel.map { "AND m.channel = \(bind: $0.rawValue)" } ?? ""
        return try await sqlDatabase.raw(
            """
            SELECT m.channel, COUNT(*) AS connections, COUNT(DISTINCT s.user_id) AS users
            FROM \(ident: Self.members) m JOIN \(ident: Self.sessions) s ON s.connection_id = m.connection_id
            WHERE m.api_id = \(bind: apiID.rawValue) AND s.connected = \(bind: true) \(filter)
            GROUP BY m.channel ORDER BY m.channel
            """
        ).all().map { row in
            ChannelCount(
                channel: try Self.channel(from: row), connections: try row.decode(column: "connections", as: Int.self),
                users: try row.decode(column: "users", as: Int.self))
        }
    }

    private static func channel(from row: any SQLRow) throws -> ChannelName {
        try ChannelName(try row.decode(column: "channel", as: String.self))
    }
}

extension FluentConnectionStore: ChannelRuleStore {
    public func channelRule(for channel: ChannelName) async throws -> ChannelRule? {
        try await sqlDatabase.raw(
            "SELECT channel, access, permission_sets FROM \(ident: Self.rules) WHERE channel = \(bind: channel.rawValue)"
        ).first().map(Self.rule(from:))
    }

    public func channelRules() async throws -> [ChannelRule] {
        try await sqlDatabase.raw("SELECT channel, access, permission_sets FROM \(ident: Self.rules) ORDER BY channel").all()
            .map(Self.rule(from:))
    }

    public func saveChannelRule(_ rule: ChannelRule) async throws {
        let stored = rule.access.stored
        try await sqlDatabase.raw(
            """
            INSERT INTO \(ident: Self.rules) (channel, access, permission_sets)
            VALUES (\(bind: rule.channel.rawValue), \(bind: stored.kind), \(bind: stored.permissionSets))
            ON CONFLICT (channel) DO UPDATE SET access = excluded.access, permission_sets = excluded.permission_sets
            """
        ).run()
    }

    public func deleteChannelRule(for channel: ChannelName) async throws -> Bool {
        try await !sqlDatabase.raw(
            "DELETE FROM \(ident: Self.rules) WHERE channel = \(bind: channel.rawValue) RETURNING channel"
        ).all().isEmpty
    }

    private static func rule(from row: any SQLRow) throws -> ChannelRule {
        ChannelRule(
            channel: try channel(from: row),
            access: try ChannelAccess(
                storedKind: try row.decode(column: "access", as: String.self),
                permissionSets: try row.decode(column: "permission_sets", as: String?.self)))
    }
}
