public import FluentKit
import SQLKit

/// Creates `apigw_gateways` and `apigw_sessions` with the indexes the hot statements use.
///
/// ```swift
/// app.migrations.add(CreateWebSocketTables())
/// ```
public struct CreateWebSocketTables: AsyncMigration {
    public init() {}

    public func prepare(on database: any Database) async throws {
        try await database.schema(GatewayModel.schema)
            .id()
            .field("api_id", .string, .required)
            .field("stage", .string, .required)
            .field("region", .string, .required)
            .field("default_channel", .string)
            .field("management_endpoint", .string)
            .unique(on: "api_id")
            .create()

        try await database.schema(SessionModel.schema)
            .field("connection_id", .string, .identifier(auto: false))
            .field("api_id", .string, .required)
            .field("stage", .string, .required)
            .field("channel", .string)
            .field("user_id", .string)
            .field("connected", .bool, .required)
            .field("request_count", .int64, .required)
            .field("created_at", .int64, .required)
            .field("updated_at", .int64, .required)
            .create()

        guard let sql = database as? any SQLDatabase else { return }
        // Audience pages: WHERE api_id = ? AND connected AND channel|user_id = ? ORDER BY connection_id.
        try await sql.create(index: "apigw_sessions_channel").on(SessionModel.schema)
            .column("api_id").column("connected").column("channel").column("connection_id").run()
        try await sql.create(index: "apigw_sessions_user").on(SessionModel.schema)
            .column("api_id").column("connected").column("user_id").column("connection_id").run()
        try await sql.create(index: "apigw_sessions_everyone").on(SessionModel.schema)
            .column("api_id").column("connected").column("connection_id").run()
        // Purging: WHERE NOT connected AND updated_at < ?.
        try await sql.create(index: "apigw_sessions_purge").on(SessionModel.schema)
            .column("connected").column("updated_at").run()
    }

    public func revert(on database: any Database) async throws {
        try await database.schema(SessionModel.schema).delete()
        try await database.schema(GatewayModel.schema).delete()
    }
}
