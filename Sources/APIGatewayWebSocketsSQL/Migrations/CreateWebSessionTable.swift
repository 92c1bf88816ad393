public import FluentKit
import SQLKit

/// Creates `apigw_web_sessions`, where `DatabaseWebSessions` (Vapor) and `SQLPersistDriver` (Hummingbird), through ``WebSessionStore``, keeps the app's logins: the
/// SHA-256 of the session id (never the id), the session's data, and when it was made and
/// expires. ``WebSocketMigrations/all`` lists it after the framework's other tables.
public struct CreateWebSessionTable: AsyncMigration {
    /// The name Fluent records it under: the one it had in the Vapor module it came from, so a
    /// database migrated before the store had a module of its own is not migrated again.
    public var name: String { "VaporAPIGatewayWebSockets.CreateWebSessionTable" }

    public init() {}

    static let table = "apigw_web_sessions"

    public func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw StoreError.notSQL }
        try await sql.create(table: Self.table)
            .column("key_hash", type: .text, .primaryKey(autoIncrement: false))
            .column("data", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("expires_at", type: .bigint, .notNull)
            .run()
        // The sweep: WHERE expires_at < ?.
        try await sql.create(index: "apigw_web_sessions_expiry").on(Self.table).column("expires_at").run()
    }

    public func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw StoreError.notSQL }
        try await sql.drop(table: Self.table).ifExists().run()
    }
}
