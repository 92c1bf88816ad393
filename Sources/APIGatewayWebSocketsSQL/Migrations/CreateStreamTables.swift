public import FluentKit
import SQLKit

/// Creates the streams' tables: `apigw_streams` (each channel's and user's epoch and last offset,
/// the counter offsets are taken from) and `apigw_stream_messages` (the history, and the outbox:
/// the rows not yet `delivered`). ``WebSocketMigrations/all`` lists it. One transaction.
public struct CreateStreamTables: AsyncMigration {
    /// The name Fluent records it under: the one it had in the Vapor module it came from, so a
    /// database migrated before the store had a module of its own is not migrated again.
    public var name: String { "VaporAPIGatewayWebSockets.CreateStreamTables" }

    public init() {}

    static let streams = "apigw_streams"
    static let messages = "apigw_stream_messages"

    public func prepare(on database: any Database) async throws {
        try await database.transaction { database in
            guard let sql = database as? any SQLDatabase else { throw StoreError.notSQL }
            try await sql.create(table: Self.streams)
                .column("api_id", type: .text, .notNull)
                .column("stream", type: .text, .notNull)
                .column("epoch", type: .text, .notNull)
                .column("last_offset", type: .bigint, .notNull)
                .primaryKey("api_id", "stream")
                .run()
            try await sql.create(table: Self.messages)
                .column("api_id", type: .text, .notNull)
                .column("stream", type: .text, .notNull)
                .column("stream_offset", type: .bigint, .notNull)
                .column("epoch", type: .text, .notNull)
                .column("body", type: .text, .notNull)
                .column("published_at", type: .bigint, .notNull)
                .column("idempotency_key", type: .text)
                .column("delivered", type: .custom(SQLRaw("BOOLEAN")), .notNull)
                .column("claimed_until", type: .bigint)
                .column("attempts", type: .int, .notNull)
                .primaryKey("api_id", "stream", "stream_offset")
                .run()
            // One message per key on an API (NULLs are distinct on both databases).
            try await sql.create(index: "apigw_stream_messages_key").unique().on(Self.messages)
                .column("api_id").column("idempotency_key").run()
            // The outbox: what the delivery worker scans, kept small by being partial.
            try await sql.raw(
                """
                CREATE INDEX apigw_stream_messages_outbox ON \(ident: Self.messages) (published_at, api_id, stream, stream_offset)
                WHERE delivered = \(unsafeRaw: sql.dialect.name == "sqlite" ? "0" : "false")
                """
            ).run()
        }
    }

    public func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { throw StoreError.notSQL }
        try await sql.drop(table: Self.messages).ifExists().run()
        try await sql.drop(table: Self.streams).ifExists().run()
    }
}
