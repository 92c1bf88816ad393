public import FluentKit
import SQLKit

/// Creates `apigw_gateways`, `apigw_gateway_routes` and `apigw_sessions` with the indexes the hot
/// statements use.
///
/// ```swift
/// app.migrations.add(CreateWebSocketTables())
/// ```
public struct CreateWebSocketTables: AsyncMigration {
    /// The name Fluent records it under: the one it had in the Vapor module it came from, so a
    /// database migrated before the store had a module of its own is not migrated again.
    public var name: String { "VaporAPIGatewayWebSockets.CreateWebSocketTables" }

    public init() {}

    public func prepare(on database: any Database) async throws {
        try await database.schema(GatewayModel.schema)
            .id()
            .field("name", .string, .required)
            .field("description", .string)
            .field("default_channel", .string)
            .field("target_base_url", .string, .required)
            .field("route_selection_expression", .string, .required)
            .field("api_key_selection_expression", .string, .required)
            .field("stage", .string, .required)
            .field("stage_description", .string)
            .field("region", .string, .required)
            .field("tags", .dictionary(of: .string), .required)
            .field("custom_domain", .string)
            .field("certificate_arn", .string)
            .field("hosted_zone_id", .string)
            .field("management_endpoint", .string)
            .field("api_id", .string)
            .field("api_endpoint", .string)
            .field("domain_target", .string)
            .field("domain_target_zone_id", .string)
            .field("api_mapping_id", .string)
            .field("deployment_id", .string)
            .field("status", .string, .required)
            .field("last_error", .string)
            .field("claim_token", .string)
            .field("claimed_at", .int64)
            .unique(on: "name")
            .unique(on: "api_id")
            .create()

        try await database.schema(GatewayRouteModel.schema)
            .id()
            .field("gateway_id", .uuid, .required, .references(GatewayModel.schema, "id", onDelete: .cascade))
            .field("name", .string, .required)
            .field("route_key", .string, .required)
            .field("integration_url", .string, .required)
            .field("deployed", .bool, .required)
            .field("route_id", .string)
            .field("integration_id", .string)
            .unique(on: "gateway_id", "route_key")
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
        // The sweep: WHERE connected AND created_at < ?.
        try await sql.create(index: "apigw_sessions_sweep").on(SessionModel.schema)
            .column("connected").column("created_at").run()
    }

    public func revert(on database: any Database) async throws {
        try await database.schema(SessionModel.schema).delete()
        try await database.schema(GatewayRouteModel.schema).delete()
        try await database.schema(GatewayModel.schema).delete()
    }
}
