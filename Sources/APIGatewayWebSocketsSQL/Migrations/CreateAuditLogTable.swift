public import FluentKit
import SQLKit

/// Creates `apigw_audit_log`, the record of the admin's writes (``AuditLog``): when, who, what,
/// on what, and how it ended. ``WebSocketMigrations/all`` lists it.
public struct CreateAuditLogTable: AsyncMigration {
    /// The name Fluent records it under: the one it had in the Vapor module it came from, so a
    /// database migrated before the store had a module of its own is not migrated again.
    public var name: String { "VaporAPIGatewayWebSockets.CreateAuditLogTable" }

    public init() {}

    static let table = "apigw_audit_log"

    public func prepare(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw StoreError.notSQL }
        try await sql.create(table: Self.table)
            .column("at", type: .bigint, .notNull)
            .column("actor", type: .text, .notNull)
            .column("action", type: .text, .notNull)
            .column("target", type: .text, .notNull)
            .column("outcome", type: .text, .notNull)
            .run()
        try await sql.create(index: "apigw_audit_log_at").on(Self.table).column("at").run()
    }

    public func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw StoreError.notSQL }
        try await sql.drop(table: Self.table).ifExists().run()
    }
}
