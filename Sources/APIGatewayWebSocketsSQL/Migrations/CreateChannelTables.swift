public import FluentKit
import SQLKit

/// Creates `apigw_channel_members` (a connection in any number of channels) and
/// `apigw_channel_rules`, moves each session's one channel into the members table, and gives
/// sessions and tokens the hash of their user's login state (`auth_state_hash`). Add it after
/// ``CreateIdentityTables``; ``WebSocketMigrations/all`` lists the three in order. It runs in one
/// transaction: a failure leaves the database as it was.
///
/// It drops `apigw_sessions.channel`: in a rolling deploy, stop the instances that still write
/// it before migrating.
public struct CreateChannelTables: AsyncMigration {
    /// The name Fluent records it under: the one it had in the Vapor module it came from, so a
    /// database migrated before the store had a module of its own is not migrated again.
    public var name: String { "VaporAPIGatewayWebSockets.CreateChannelTables" }

    public init() {}

    static let members = "apigw_channel_members"
    static let rules = "apigw_channel_rules"

    public func prepare(on database: any Database) async throws {
        try await database.transaction { database in try await prepare(in: database) }
    }

    private func prepare(in database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw StoreError.notSQL }
        try await sql.create(table: Self.members)
            .column("connection_id", type: .text, .notNull)
            .column("channel", type: .text, .notNull)
            .column("api_id", type: .text, .notNull)
            .column("joined_at", type: .bigint, .notNull)
            .primaryKey("connection_id", "channel")
            .run()
        // A channel's audience and presence: WHERE api_id = ? AND channel = ? ORDER BY connection_id.
        try await sql.create(index: "apigw_members_channel").on(Self.members)
            .column("api_id").column("channel").column("connection_id").run()
        try await sql.raw(
            """
            INSERT INTO \(ident: Self.members) (connection_id, channel, api_id, joined_at)
            SELECT connection_id, channel, api_id, created_at FROM \(ident: SessionModel.schema) WHERE channel IS NOT NULL
            """
        ).run()
        try await sql.drop(index: "apigw_sessions_channel").run()
        try await sql.alter(table: SessionModel.schema).dropColumn("channel").run()
        try await sql.alter(table: SessionModel.schema).column("auth_state_hash", type: .text).run()
        try await sql.alter(table: CreateIdentityTables.tokens).column("auth_state_hash", type: .text).run()

        try await sql.create(table: Self.rules)
            .column("channel", type: .text, .primaryKey(autoIncrement: false))
            .column("access", type: .text, .notNull)
            .column("permission_sets", type: .text)
            .run()
    }

    public func revert(on database: any Database) async throws {
        try await database.transaction { database in try await revert(in: database) }
    }

    private func revert(in database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw StoreError.notSQL }
        try await sql.drop(table: Self.rules).ifExists().run()
        try await sql.alter(table: CreateIdentityTables.tokens).dropColumn("auth_state_hash").run()
        try await sql.alter(table: SessionModel.schema).dropColumn("auth_state_hash").run()
        try await sql.alter(table: SessionModel.schema).column("channel", type: .text).run()
        // A session keeps one channel of its memberships, the first by name.
        try await sql.raw(
            """
            UPDATE \(ident: SessionModel.schema) SET channel = (
                SELECT MIN(channel) FROM \(ident: Self.members) m WHERE m.connection_id = \(ident: SessionModel.schema).connection_id)
            """
        ).run()
        try await sql.create(index: "apigw_sessions_channel").on(SessionModel.schema)
            .column("api_id").column("connected").column("channel").column("connection_id").run()
        try await sql.drop(table: Self.members).ifExists().run()
    }
}

/// The framework's migrations, in order: add them all.
///
/// ```swift
/// app.migrations.add(WebSocketMigrations.all)
/// ```
public enum WebSocketMigrations {
    public static var all: [any Migration] {
        [
            CreateWebSocketTables(), CreateIdentityTables(), CreateChannelTables(), CreateWebSessionTable(), CreateAuditLogTable(),
            CreateStreamTables(),
        ]
    }
}
