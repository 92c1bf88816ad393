public import APIGatewayWebSockets
public import FluentKit
import Foundation
import NIOCore
import SQLKit

/// Streams in SQL. An offset comes from the stream's row in `apigw_streams`, bumped by an upsert
/// in the append's transaction: PostgreSQL holds that row's lock until the transaction ends, so
/// concurrent appends to one stream take consecutive offsets and a rolled-back one takes none;
/// SQLite serializes every write anyway. The outbox is the `delivered = false` rows; the delivery
/// worker claims them with one `UPDATE … RETURNING` (with `FOR UPDATE SKIP LOCKED` on PostgreSQL,
/// so instances do not wait on each other).
extension FluentConnectionStore: StreamStore {
    private static let streams = CreateStreamTables.streams
    private static let messages = CreateStreamTables.messages
    private static let messageColumns =
        "api_id, stream, stream_offset, epoch, body, published_at, idempotency_key, delivered, attempts"

    public func append(_ message: NewStreamMessage) async throws -> Appended {
        let database = try self.database()
        do {
            return try await database.transaction { transaction in
                try await Self.append(message, in: try Self.sql(of: transaction))
            }
        } catch {
            // Two publishes of one key at once: the second's insert broke the unique index.
            guard let key = message.idempotencyKey, let existing = try await Self.message(keyed: key, apiID: message.apiID, in: try sqlDatabase)
            else { throw error }
            return Appended(message: existing, duplicate: true)
        }
    }

    /// Appends `message` in `database`, a transaction of the app's: the message is in the stream,
    /// and in the outbox, only if that transaction commits (then the delivery worker delivers it).
    /// Its offset is held from here to the commit: keep the rest of the transaction short.
    public func append(_ message: NewStreamMessage, in database: any Database) async throws -> Appended {
        try await Self.append(message, in: try Self.sql(of: database))
    }

    private static func sql(of database: any Database) throws -> any SQLDatabase {
        guard let sql = database as? any SQLDatabase else { throw StoreError.notSQL }
        return sql
    }

    private static func append(_ message: NewStreamMessage, in sql: any SQLDatabase) async throws -> Appended {
        if let key = message.idempotencyKey, let existing = try await Self.message(keyed: key, apiID: message.apiID, in: sql) {
            return Appended(message: existing, duplicate: true)
        }
        let apiID = message.apiID.rawValue
        let stream = message.stream.key
        guard
            let head = try await sql.raw(
                """
                INSERT INTO \(ident: Self.streams) (api_id, stream, epoch, last_offset)
                VALUES (\(bind: apiID), \(bind: stream), \(bind: StreamPosition.newEpoch()), 1)
                ON CONFLICT (api_id, stream) DO UPDATE SET last_offset = \(ident: Self.streams).last_offset + 1
                RETURNING epoch, last_offset
                """
            ).first()
        else { throw StoreError.unavailable("the stream's offset could not be taken") }
        let position = StreamPosition(
            offset: Int(try head.decode(column: "last_offset", as: Int64.self)), epoch: try head.decode(column: "epoch", as: String.self))
        try await sql.raw(
            """
            INSERT INTO \(ident: Self.messages) (\(unsafeRaw: Self.messageColumns), claimed_until)
            VALUES (\(bind: apiID), \(bind: stream), \(bind: Int64(position.offset)), \(bind: position.epoch),
                    \(bind: String(buffer: message.body)), \(bind: message.publishedAt.milliseconds), \(bind: message.idempotencyKey),
                    \(bind: false), 0, \(bind: message.claimedUntil?.milliseconds))
            """
        ).run()
        return Appended(
            message: StreamMessage(
                apiID: message.apiID, stream: message.stream, position: position, body: message.body, publishedAt: message.publishedAt,
                idempotencyKey: message.idempotencyKey),
            duplicate: false)
    }

    private static func message(keyed key: String, apiID: APIID, in sql: any SQLDatabase) async throws -> StreamMessage? {
        try await sql.raw(
            """
            SELECT \(unsafeRaw: messageColumns) FROM \(ident: messages)
            WHERE api_id = \(bind: apiID.rawValue) AND idempotency_key = \(bind: key)
            """
        ).first().map(streamMessage(from:))
    }

    public func messages(in stream: StreamID, apiID: APIID, after offset: Int, limit: Int) async throws -> [StreamMessage] {
        try await sqlDatabase.raw(
            """
            SELECT \(unsafeRaw: Self.messageColumns) FROM \(ident: Self.messages)
            WHERE api_id = \(bind: apiID.rawValue) AND stream = \(bind: stream.key) AND stream_offset > \(bind: Int64(offset))
            ORDER BY stream_offset LIMIT \(unsafeRaw: String(max(0, limit)))
            """
        ).all().map(Self.streamMessage(from:))
    }

    public func lastMessages(in stream: StreamID, apiID: APIID, before offset: Int?, limit: Int) async throws -> [StreamMessage] {
        try await sqlDatabase.raw(
            """
            SELECT \(unsafeRaw: Self.messageColumns) FROM \(ident: Self.messages)
            WHERE api_id = \(bind: apiID.rawValue) AND stream = \(bind: stream.key) AND stream_offset < \(bind: Int64(offset ?? Int.max))
            ORDER BY stream_offset DESC LIMIT \(unsafeRaw: String(max(0, limit)))
            """
        ).all().map(Self.streamMessage(from:)).reversed()
    }

    public func head(of stream: StreamID, apiID: APIID) async throws -> StreamHead? {
        try await sqlDatabase.raw(
            """
            SELECT s.epoch, s.last_offset,
                   (SELECT MIN(m.stream_offset) FROM \(ident: Self.messages) m WHERE m.api_id = s.api_id AND m.stream = s.stream) AS first_offset
            FROM \(ident: Self.streams) s WHERE s.api_id = \(bind: apiID.rawValue) AND s.stream = \(bind: stream.key)
            """
        ).first().map { row in
            let last = Int(try row.decode(column: "last_offset", as: Int64.self))
            return StreamHead(
                epoch: try row.decode(column: "epoch", as: String.self), lastOffset: last,
                firstOffset: Int(try row.decode(column: "first_offset", as: Int64?.self) ?? Int64(last + 1)))
        }
    }

    public func claimUndelivered(limit: Int, until: Date, at now: Date) async throws -> [StreamMessage] {
        let sql = try sqlDatabase
        let (now, until) = (now.milliseconds, until.milliseconds)
        let skipLocked: SQLQueryString = sql.dialect.name == "postgresql" ? "FOR UPDATE SKIP LOCKED" : ""
        let claimable: SQLQueryString = "delivered = \(bind: false) AND (claimed_until IS NULL OR claimed_until < \(bind: now))"
        return try await sql.raw(
            """
            UPDATE \(ident: Self.messages) SET claimed_until = \(bind: until), attempts = attempts + 1
            WHERE (api_id, stream, stream_offset) IN (
                SELECT m.api_id, m.stream, m.stream_offset FROM \(ident: Self.messages) m
                WHERE m.\(claimable)
                  AND NOT EXISTS (
                      SELECT 1 FROM \(ident: Self.messages) e
                      WHERE e.api_id = m.api_id AND e.stream = m.stream AND e.stream_offset < m.stream_offset
                        AND e.delivered = \(bind: false) AND e.claimed_until >= \(bind: now))
                ORDER BY m.published_at, m.api_id, m.stream, m.stream_offset
                LIMIT \(unsafeRaw: String(max(0, limit))) \(skipLocked))
              AND \(claimable)
            RETURNING \(unsafeRaw: Self.messageColumns)
            """
        ).all().map(Self.streamMessage(from:)).sorted {
            ($0.apiID.rawValue, $0.stream.key, $0.position.offset) < ($1.apiID.rawValue, $1.stream.key, $1.position.offset)
        }
    }

    public func markDelivered(_ messages: [StreamMessage]) async throws {
        let sql = try sqlDatabase
        for group in Dictionary(grouping: messages, by: { [$0.apiID.rawValue, $0.stream.key] }).values {
            let offsets = SQLList(group.map { SQLBind(Int64($0.position.offset)) })
            try await sql.raw(
                """
                UPDATE \(ident: Self.messages) SET delivered = \(bind: true), claimed_until = NULL
                WHERE api_id = \(bind: group[0].apiID.rawValue) AND stream = \(bind: group[0].stream.key) AND stream_offset IN (\(offsets))
                """
            ).run()
        }
    }

    public func pruneStreams(_ retention: StreamRetention, at now: Date) async throws -> Int {
        let oldest = now.addingTimeInterval(-Double(retention.age.components.seconds)).milliseconds
        return try await sqlDatabase.raw(
            """
            DELETE FROM \(ident: Self.messages)
            WHERE delivered = \(bind: true)
              AND (published_at < \(bind: oldest)
                   OR stream_offset <= (SELECT s.last_offset FROM \(ident: Self.streams) s
                                        WHERE s.api_id = \(ident: Self.messages).api_id AND s.stream = \(ident: Self.messages).stream)
                                       - \(bind: Int64(retention.messages)))
            RETURNING stream_offset
            """
        ).all().count
    }

    public func streamStatistics(at now: Date) async throws -> StreamStatistics {
        let row = try await sqlDatabase.raw(
            """
            SELECT (SELECT COUNT(*) FROM \(ident: Self.streams)) AS streams,
                   (SELECT COUNT(*) FROM \(ident: Self.messages)) AS messages,
                   (SELECT COUNT(*) FROM \(ident: Self.messages) WHERE delivered = \(bind: false)) AS undelivered,
                   (SELECT MIN(published_at) FROM \(ident: Self.messages) WHERE delivered = \(bind: false)) AS oldest
            """
        ).first()
        guard let row else { return StreamStatistics(streams: 0, messages: 0, undelivered: 0, oldestUndeliveredAge: .zero) }
        let oldest = try row.decode(column: "oldest", as: Int64?.self)
        return StreamStatistics(
            streams: try row.decode(column: "streams", as: Int.self), messages: try row.decode(column: "messages", as: Int.self),
            undelivered: try row.decode(column: "undelivered", as: Int.self),
            oldestUndeliveredAge: oldest.map { .milliseconds(max(0, now.milliseconds - $0)) } ?? .zero)
    }

    private static func streamMessage(from row: any SQLRow) throws -> StreamMessage {
        StreamMessage(
            apiID: try APIID(try row.decode(column: "api_id", as: String.self)),
            stream: try StreamID(key: try row.decode(column: "stream", as: String.self)),
            position: StreamPosition(
                offset: Int(try row.decode(column: "stream_offset", as: Int64.self)), epoch: try row.decode(column: "epoch", as: String.self)),
            body: ByteBuffer(string: try row.decode(column: "body", as: String.self)),
            publishedAt: Date(milliseconds: try row.decode(column: "published_at", as: Int64.self)),
            idempotencyKey: try row.decode(column: "idempotency_key", as: String?.self),
            delivered: try row.decode(column: "delivered", as: Bool.self),
            attempts: try row.decode(column: "attempts", as: Int.self))
    }
}
