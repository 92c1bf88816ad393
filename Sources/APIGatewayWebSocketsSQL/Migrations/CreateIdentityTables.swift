public import FluentKit
import SQLKit

/// Creates `apigw_connection_tokens` and `apigw_rate_limit_hits`, the records of who is
/// connecting (``FluentConnectionStore``'s `IdentityStore` side), and adds to `apigw_sessions`
/// the login each connection came from (`web_session_hash`). Add it after
/// ``CreateWebSocketTables`` (``WebSocketMigrations/all`` lists them in order): a database migrated
/// before keeps its rows.
///
/// ```swift
/// app.migrations.add(WebSocketMigrations.all)
/// ```
public struct CreateIdentityTables: AsyncMigration {
    /// The name Fluent records it under: the one it had in the Vapor module it came from, so a
    /// database migrated before the store had a module of its own is not migrated again.
    public var name: String { "VaporAPIGatewayWebSockets.CreateIdentityTables" }

    public init() {}

    static let tokens = "apigw_connection_tokens"
    static let hits = "apigw_rate_limit_hits"

    public func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw StoreError.notSQL }
        try await database.schema(SessionModel.schema).field("web_session_hash", .string).update()
        // Logging out: WHERE web_session_hash = ? AND connected.
        try await sql.create(index: "apigw_sessions_web_session").on(SessionModel.schema)
            .column("web_session_hash").column("connected").run()
        try await sql.create(table: Self.tokens)
            .column("token_hash", type: .text, .primaryKey(autoIncrement: false))
            .column("user_id", type: .text, .notNull)
            .column("session_hash", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("expires_at", type: .bigint, .notNull)
            .column("used_at", type: .bigint)
            .run()
        try await sql.create(index: "apigw_tokens_expiry").on(Self.tokens).column("expires_at").run()
        try await sql.create(table: Self.hits)
            .column("key", type: .text, .notNull)
            .column("at", type: .bigint, .notNull)
            .run()
        // The window count: WHERE key = ? AND at > ?; the purge: WHERE at < ?.
        try await sql.create(index: "apigw_hits_key").on(Self.hits).column("key").column("at").run()
        try await sql.create(index: "apigw_hits_at").on(Self.hits).column("at").run()
    }

    public func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw StoreError.notSQL }
        try await sql.drop(table: Self.hits).ifExists().run()
        try await sql.drop(table: Self.tokens).ifExists().run()
        try await sql.drop(index: "apigw_sessions_web_session").run()
        try await database.schema(SessionModel.schema).deleteField("web_session_hash").update()
    }
}
