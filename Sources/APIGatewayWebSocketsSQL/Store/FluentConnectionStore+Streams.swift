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
    static let streams = CreateStreamTables.streams
    static let messages = CreateStreamTables.messages
    static let messageColumns =
        "api_id, stream, stream_offset, epoch, body, published_at, idempotency_key, delivered, attempts"

    /// Concurrent appends share a transaction (group commit): one per batch, not per message.
    public func append(_ message: NewStreamMessage) async throws -> Appended {
        try await appends.submit(message)
    }

    /// Appends `message` in `database`, a transaction of the app's: the message is in the stream,
    /// and in the outbox, only if that transaction commits (then the delivery worker delivers it).
    /// Its offset is held from here to the commit: keep the rest of the transaction short.
    public func append(_ message: NewStreamMessage, in database: any Database) async throws -> Appended {
        try await Self.appendAll([message], in: try Self.sql { database })[0]
    }

    /// One transaction for the batch. Should it fail (an idempotency key another instance took
    /// meanwhile breaks the unique index, PostgreSQL chose it as a deadlock's victim), each message
    /// is appended in a transaction of its own, so one does not fail the others and each caller
    /// hears its own message's fate.
    static func appendBatch(_ messages: [NewStreamMessage], database: @Sendable () throws -> any Database) async throws
        -> [Result<Appended, any Error>]
    {
        let db = try database()
        do {
            return try await db.transaction { transaction in try await appendAll(messages, in: try sql { transaction }) }
                .map { .success($0) }
        } catch {
            var results: [Result<Appended, any Error>] = []
            for message in messages {
                do {
                    results.append(.success(try await db.transaction { transaction in try await appendAll([message], in: try sql { transaction })[0] }))
                } catch {
                    // Two publishes of one key at once: the other's message is the answer.
                    if let key = message.idempotencyKey, let existing = try? await Self.message(keyed: key, apiID: message.apiID, in: try sql { db }) {
                        results.append(.success(Appended(message: existing, duplicate: true)))
                    } else {
                        results.append(.failure(error))
                    }
                }
            }
            return results
        }
    }

    /// Appends `messages` in order: a used idempotency key (before, or earlier in the batch) is
    /// answered with its message; the others take, per stream, the next offsets with one upsert of
    /// the stream's row, and go in with multi-row inserts.
    static func appendAll(_ messages: [NewStreamMessage], in sql: any SQLDatabase) async throws -> [Appended] {
        var answers = [Appended?](repeating: nil, count: messages.count)
        // Keys used before.
        var firstWithKey: [String: Int] = [:]
        var repeats: [(index: Int, of: Int)] = []
        for (apiID, indices) in Dictionary(grouping: messages.indices.filter { messages[$0].idempotencyKey != nil }, by: { messages[$0].apiID }) {
            let keys = SQLList(Set(indices.map { messages[$0].idempotencyKey! }).map { SQLBind($0) })
            let existing = try await sql.raw(
                """
                SELECT \(unsafeRaw: messageColumns) FROM \(ident: Self.messages)
                WHERE api_id = \(bind: apiID.rawValue) AND idempotency_key IN (\(keys))
                """
            ).all().map(streamMessage(from:))
            let byKey = Dictionary(existing.map { ($0.idempotencyKey ?? "", $0) }, uniquingKeysWith: { first, _ in first })
            for index in indices {
                let key = messages[index].idempotencyKey!
                if let message = byKey[key] {
                    answers[index] = Appended(message: message, duplicate: true)
                } else if let first = firstWithKey[apiID.rawValue + "\u{0}" + key] {
                    repeats.append((index, first))
                } else {
                    firstWithKey[apiID.rawValue + "\u{0}" + key] = index
                }
            }
        }
        let repeated = Set(repeats.map(\.index))
        let fresh = messages.indices.filter { answers[$0] == nil && !repeated.contains($0) }
        // Offsets: one upsert per stream, for all of its messages in the batch.
        var streams: [(apiID: APIID, stream: StreamID, indices: [Int])] = []
        for index in fresh {
            if let at = streams.firstIndex(where: { $0.apiID == messages[index].apiID && $0.stream == messages[index].stream }) {
                streams[at].indices.append(index)
            } else {
                streams.append((messages[index].apiID, messages[index].stream, [index]))
            }
        }
        // Stream rows are locked (PostgreSQL) in one order by every instance: no two batches wait on each other.
        streams.sort { ($0.apiID.rawValue, $0.stream.key) < ($1.apiID.rawValue, $1.stream.key) }
        var rows: [SQLQueryString] = []
        for (apiID, stream, indices) in streams {
            let count = indices.count
            guard
                let head = try await sql.raw(
                    """
                    INSERT INTO \(ident: Self.streams) (api_id, stream, epoch, last_offset)
                    VALUES (\(bind: apiID.rawValue), \(bind: stream.key), \(bind: StreamPosition.newEpoch()), \(bind: Int64(count)))
                    ON CONFLICT (api_id, stream) DO UPDATE SET last_offset = \(ident: Self.streams).last_offset + \(bind: Int64(count))
                    RETURNING epoch, last_offset
                    """
                ).first()
            else { throw StoreError.unavailable("the stream's offsets could not be taken") }
            let epoch = try head.decode(column: "epoch", as: String.self)
            let first = Int(try head.decode(column: "last_offset", as: Int64.self)) - count + 1
            for (order, index) in indices.enumerated() {
                let message = messages[index]
                let position = StreamPosition(offset: first + order, epoch: epoch)
                answers[index] = Appended(
                    message: StreamMessage(
                        apiID: apiID, stream: stream, position: position, body: message.body, publishedAt: message.publishedAt,
                        idempotencyKey: message.idempotencyKey),
                    duplicate: false)
                rows.append(
                    """
                    (\(bind: apiID.rawValue), \(bind: stream.key), \(bind: Int64(position.offset)), \(bind: epoch),
                     \(bind: String(buffer: message.body)), \(bind: message.publishedAt.milliseconds), \(bind: message.idempotencyKey),
                     \(bind: false), 0, \(bind: message.claimedUntil?.milliseconds))
                    """)
            }
        }
        // 100 rows (1,000 values) a statement: within every SQLite's limit on bound values.
        for start in stride(from: 0, to: rows.count, by: 100) {
            try await sql.raw(
                """
                INSERT INTO \(ident: Self.messages) (\(unsafeRaw: Self.messageColumns), claimed_until)
                VALUES \(rows[start..<min(start + 100, rows.count)].joined(separator: ", "))
                """
            ).run()
        }
        for (index, first) in repeats {
            answers[index] = Appended(message: answers[first]!.message, duplicate: true)
        }
        return answers.map { $0! }
    }

    static func message(keyed key: String, apiID: APIID, in sql: any SQLDatabase) async throws -> StreamMessage? {
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

    /// `delivered = FALSE` as a literal (SQLite's `0`): only a literal lets the planner use the
    /// partial outbox index, whose predicate is written the same way.
    static func undelivered(_ sql: any SQLDatabase, _ alias: String = "") -> SQLQueryString {
        "\(unsafeRaw: alias)delivered = \(unsafeRaw: sql.dialect.name == "sqlite" ? "0" : "FALSE")"
    }

    /// One statement on SQLite, which runs one write at a time. On PostgreSQL, in a transaction:
    /// first the streams with something claimable are locked with a transaction-scoped advisory lock
    /// each (taken only if free: a worker skips the streams another is claiming in, and never waits
    /// on an append's row lock), then the claim runs, in a statement of its own so that it sees what
    /// committed before the locks were held: two workers never claim in one stream at once, so one
    /// stream is delivered in order.
    public func claimUndelivered(limit: Int, until: Date, at now: Date) async throws -> [StreamMessage] {
        let sql = try sqlDatabase
        guard sql.dialect.name == "postgresql" else {
            return try await Self.claim(limit: limit, until: until, at: now, streams: nil, in: sql)
        }
        return try await database().transaction { transaction in
            let sql = try Self.sql { transaction }
            let locked = try await sql.raw(
                """
                SELECT c.api_id, c.stream FROM (
                    SELECT DISTINCT m.api_id, m.stream FROM \(ident: Self.messages) m
                    WHERE \(Self.undelivered(sql, "m.")) AND (m.claimed_until IS NULL OR m.claimed_until < \(bind: now.milliseconds))
                      -- A stream with a message someone holds cannot go on: it takes no candidate's place.
                      AND NOT EXISTS (
                          SELECT 1 FROM \(ident: Self.messages) e
                          WHERE e.api_id = m.api_id AND e.stream = m.stream AND \(Self.undelivered(sql, "e."))
                            AND e.claimed_until >= \(bind: now.milliseconds))
                    LIMIT \(unsafeRaw: String(max(1, limit)))) c
                WHERE pg_try_advisory_xact_lock(hashtextextended('apigw_stream ' || c.api_id || ' ' || c.stream, 0))
                """
            ).all().map { row in "(\(bind: try row.decode(column: "api_id", as: String.self)), \(bind: try row.decode(column: "stream", as: String.self)))" as SQLQueryString }
            guard !locked.isEmpty else { return [] }
            return try await Self.claim(limit: limit, until: until, at: now, streams: locked, in: sql)
        }
    }

    private static func claim(limit: Int, until: Date, at now: Date, streams: [SQLQueryString]?, in sql: any SQLDatabase) async throws
        -> [StreamMessage]
    {
        let (now, until) = (now.milliseconds, until.milliseconds)
        let claimable: SQLQueryString = "\(Self.undelivered(sql)) AND (claimed_until IS NULL OR claimed_until < \(bind: now))"
        let onlyLocked: SQLQueryString = streams.map { "AND (m.api_id, m.stream) IN (\($0.joined(separator: ", ")))" } ?? ""
        return try await sql.raw(
            """
            UPDATE \(ident: Self.messages) SET claimed_until = \(bind: until), attempts = attempts + 1
            WHERE (api_id, stream, stream_offset) IN (
                SELECT m.api_id, m.stream, m.stream_offset FROM \(ident: Self.messages) m
                WHERE \(Self.undelivered(sql, "m.")) AND (m.claimed_until IS NULL OR m.claimed_until < \(bind: now))
                  \(onlyLocked)
                  AND NOT EXISTS (
                      SELECT 1 FROM \(ident: Self.messages) e
                      WHERE e.api_id = m.api_id AND e.stream = m.stream AND e.stream_offset < m.stream_offset
                        AND \(Self.undelivered(sql, "e.")) AND e.claimed_until >= \(bind: now))
                ORDER BY m.api_id, m.stream, m.stream_offset
                LIMIT \(unsafeRaw: String(max(0, limit))))
              AND \(claimable)
            RETURNING \(unsafeRaw: Self.messageColumns)
            """
        ).all().map(Self.streamMessage(from:)).sorted {
            ($0.apiID.rawValue, $0.stream.key, $0.position.offset) < ($1.apiID.rawValue, $1.stream.key, $1.position.offset)
        }
    }

    public func extendClaims(_ messages: [StreamMessage], until: Date) async throws {
        let sql = try sqlDatabase
        for start in stride(from: 0, to: messages.count, by: 200) {
            let keys: [SQLQueryString] = messages[start..<min(start + 200, messages.count)].map {
                "(\(bind: $0.apiID.rawValue), \(bind: $0.stream.key), \(bind: Int64($0.position.offset)))"
            }
            try await sql.raw(
                """
                UPDATE \(ident: Self.messages) SET claimed_until = \(bind: until.milliseconds)
                WHERE (api_id, stream, stream_offset) IN (\(keys.joined(separator: ", "))) AND \(Self.undelivered(sql))
                """
            ).run()
        }
    }

    /// One message (a publisher's own delivery) is marked with whoever else marks at the same
    /// time (group commit); a worker's batch is one statement.
    public func markDelivered(_ messages: [StreamMessage]) async throws {
        if messages.count == 1 {
            try await deliveries.submit(messages[0])
        } else {
            try await Self.markDelivered(messages, in: sqlDatabase)
        }
    }

    /// Queued, and written with whatever else is queued by one task: the publisher does not wait,
    /// and a burst of publishes costs a few statements. A mark the process does not live to write
    /// leaves its message to be delivered again by the worker, once the claim runs out.
    public func markDeliveredSoon(_ message: StreamMessage) async {
        laterDeliveries.add(message)
    }

    static func markDelivered(_ messages: [StreamMessage], in sql: any SQLDatabase) async throws {
        for start in stride(from: 0, to: messages.count, by: 200) {
            let keys: [SQLQueryString] = messages[start..<min(start + 200, messages.count)].map {
                "(\(bind: $0.apiID.rawValue), \(bind: $0.stream.key), \(bind: Int64($0.position.offset)))"
            }
            try await sql.raw(
                """
                UPDATE \(ident: Self.messages) SET delivered = \(unsafeRaw: sql.dialect.name == "sqlite" ? "1" : "TRUE"), claimed_until = NULL
                WHERE (api_id, stream, stream_offset) IN (\(keys.joined(separator: ", ")))
                """
            ).run()
        }
    }

    public func pruneStreams(_ retention: StreamRetention, at now: Date) async throws -> Int {
        let oldest = now.addingTimeInterval(-Double(retention.age.components.seconds)).milliseconds
        let sql = try sqlDatabase
        return try await sql.raw(
            """
            DELETE FROM \(ident: Self.messages)
            WHERE NOT \(Self.undelivered(sql))
              AND (published_at < \(bind: oldest)
                   OR stream_offset <= (SELECT s.last_offset FROM \(ident: Self.streams) s
                                        WHERE s.api_id = \(ident: Self.messages).api_id AND s.stream = \(ident: Self.messages).stream)
                                       - \(bind: Int64(retention.messages)))
            RETURNING stream_offset
            """
        ).all().count
    }

    public func streamStatistics(at now: Date) async throws -> StreamStatistics {
        let sql = try sqlDatabase
        let row = try await sql.raw(
            """
            SELECT (SELECT COUNT(*) FROM \(ident: Self.streams)) AS streams,
                   (SELECT COUNT(*) FROM \(ident: Self.messages)) AS messages,
                   (SELECT COUNT(*) FROM \(ident: Self.messages) WHERE \(Self.undelivered(sql))) AS undelivered,
                   (SELECT MIN(published_at) FROM \(ident: Self.messages) WHERE \(Self.undelivered(sql))) AS oldest
            """
        ).first()
        guard let row else { return StreamStatistics(streams: 0, messages: 0, undelivered: 0, oldestUndeliveredAge: .zero) }
        let oldest = try row.decode(column: "oldest", as: Int64?.self)
        return StreamStatistics(
            streams: try row.decode(column: "streams", as: Int.self), messages: try row.decode(column: "messages", as: Int.self),
            undelivered: try row.decode(column: "undelivered", as: Int.self),
            oldestUndeliveredAge: oldest.map { .milliseconds(max(0, now.milliseconds - $0)) } ?? .zero)
    }

    static func streamMessage(from row: any SQLRow) throws -> StreamMessage {
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
