public import APIGatewayWebSockets
public import FluentKit
import Foundation
public import SQLKit

/// A `ConnectionStore` in a SQL database through Fluent: SQLite by default, PostgreSQL in
/// production.
///
/// Every method is one SQL statement (a few for a connect), so any number of backend
/// processes can share the database. A message's load-and-count is a single
/// `UPDATE … RETURNING`, and so is a disconnect. Concurrent connects, disconnects and touches
/// share statements (group commit), so a burst costs a few round trips, not one each. Run
/// ``WebSocketMigrations/all`` first.
///
/// ```swift
/// let store = FluentConnectionStore { app.db }
/// ```
public struct FluentConnectionStore: ConnectionStore {
    let database: @Sendable () throws -> any Database
    private let touches: TouchCoalescer
    /// Group commit of connects and of disconnects: a burst of either is a few statements.
    private let connects: GroupCommit<Connect, ConnectOutcome>
    private let disconnects: GroupCommit<Disconnect, Session?>
    /// Group commit of stream appends, and of the marks of their delivery.
    let appends: GroupCommit<NewStreamMessage, Appended>
    let deliveries: GroupCommit<StreamMessage, Void>
    let laterDeliveries: DeferredWrites<StreamMessage>
    /// Most ids one `markGone` statement names; longer lists are split.
    static let markGoneChunk = 500

    /// - Parameter database: returns the database to use for one operation (e.g. `{ app.db }`),
    ///   or throws when there is none (e.g. during shutdown). It must be an SQL database.
    public init(database: @escaping @Sendable () throws -> any Database) {
        self.database = database
        self.appends = GroupCommit(maxBatch: 128) { messages in try await Self.appendBatch(messages, database: database) }
        self.deliveries = GroupCommit(maxBatch: 256) { messages in
            try await Self.markDelivered(messages, in: Self.sql(database))
            return messages.map { _ in .success(()) }
        }
        self.laterDeliveries = DeferredWrites(maxBatch: 256) { messages in try await Self.markDelivered(messages, in: Self.sql(database)) }
        self.touches = TouchCoalescer { ids, apiID, date in
            try await Self.touch(ids, apiID: apiID, at: date, in: Self.sql(database))
        }
        self.connects = GroupCommit(maxBatch: 128) { requests in try await Self.connect(requests, in: Self.sql(database)) }
        self.disconnects = GroupCommit(maxBatch: 256) { requests in try await Self.disconnect(requests, in: Self.sql(database)) }
    }

    private var sql: any SQLDatabase {
        get throws { try Self.sql(database) }
    }

    /// The SQL database for one operation (the one the store writes through, so SQLite's one
    /// writer serves whatever shares it).
    public var sqlDatabase: any SQLDatabase {
        get throws { try Self.sql(database) }
    }

    /// Runs `body` so that no other instance runs it for `key` at the same time: on PostgreSQL in a
    /// transaction holding the advisory lock of `key` (READ COMMITTED lets two
    /// `INSERT … SELECT … WHERE count < limit` both see room); elsewhere as it is, SQLite's writes
    /// being serialized already.
    func serialized<T: Sendable>(on key: String, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let database = try self.database()
        let sql = try Self.sql { database }
        guard sql.dialect.name == "postgresql" else { return try await body(sql) }
        return try await database.transaction { transaction in
            let sql = try Self.sql { transaction }
            try await sql.raw("SELECT pg_advisory_xact_lock(hashtextextended(\(bind: key), 0))").run()
            return try await body(sql)
        }
    }

    static func sql(_ database: @Sendable () throws -> any Database) throws -> any SQLDatabase {
        guard let sql = try database() as? any SQLDatabase else {
            throw StoreError.notSQL
        }
        return sql
    }

    private static let table = SessionModel.schema
    static let members = CreateChannelTables.members
    private static let columns =
        "connection_id, api_id, stage, user_id, web_session_hash, auth_state_hash, connected, request_count, created_at, updated_at"

    struct Connect: Sendable {
        let session: Session
        let channel: ChannelName?
    }

    struct Disconnect: Sendable {
        let id: ConnectionID
        let apiID: APIID
        let date: Date
    }

    /// Concurrent connects share statements: one `INSERT` of their sessions, one of their channels.
    /// A retried connect (its id already recorded) takes four statements of its own.
    public func connect(_ session: Session, joining channel: ChannelName?) async throws -> ConnectOutcome {
        try await connects.submit(Connect(session: session, channel: channel))
    }

    /// A batch of connects: the sessions inserted in one statement, their channels in another. An
    /// id seen twice in the batch, or already recorded, is connected on its own after (a retry, or
    /// too late).
    private static func connect(_ requests: [Connect], in sql: any SQLDatabase) async throws -> [Result<ConnectOutcome, any Error>] {
        var seen = Set<ConnectionID>()
        let firsts = requests.indices.filter { seen.insert(requests[$0].session.connectionID).inserted }
        var binds: [any Encodable & Sendable] = []
        binds.reserveCapacity(firsts.count * 10)
        for index in firsts {
            let session = requests[index].session
            binds += [
                session.connectionID.rawValue, session.apiID.rawValue, session.stage, session.userID, session.webSessionHash,
                session.authStateHash, session.connected, session.requestCount, session.createdAt.milliseconds,
                session.updatedAt.milliseconds,
            ]
        }
        let statement = StatementTexts.shared.statement("connect \(firsts.count)", on: sql, binds: binds) {
            let row: SQLQueryString = "(\(binds: Array(repeating: 0, count: 10)))"
            return """
                INSERT INTO \(ident: Self.table) (\(unsafeRaw: Self.columns)) VALUES \(Array(repeating: row, count: firsts.count).joined(separator: ", "))
                ON CONFLICT (connection_id) DO NOTHING
                RETURNING connection_id
                """
        }
        let inserted = Set(try await statement.all(on: sql).map { try $0.decode(column: "connection_id", as: String.self) })
        let created = firsts.filter { inserted.contains(requests[$0].session.connectionID.rawValue) }
        try await join(created.compactMap { index in requests[index].channel.map { (requests[index].session, $0) } }, in: sql)
        var results = Array(repeating: Result<ConnectOutcome, any Error>.success(.created), count: requests.count)
        for index in Set(requests.indices).subtracting(created).sorted() {
            do { results[index] = .success(try await connectAgain(requests[index], in: sql)) } catch { results[index] = .failure(error) }
        }
        return results
    }

    /// A connect whose id is already recorded: a retry while connected (the new user and login
    /// taken, `channel` its only channel), else ``ConnectOutcome/alreadyClosed``.
    private static func connectAgain(_ request: Connect, in sql: any SQLDatabase) async throws -> ConnectOutcome {
        let session = request.session
        let retried = try await sql.raw(
            """
            UPDATE \(ident: Self.table)
            SET user_id = \(bind: session.userID), web_session_hash = \(bind: session.webSessionHash),
                auth_state_hash = \(bind: session.authStateHash), updated_at = \(bind: session.updatedAt.milliseconds)
            WHERE connection_id = \(bind: session.connectionID.rawValue) AND api_id = \(bind: session.apiID.rawValue) AND connected = \(bind: true)
            RETURNING connection_id
            """
        ).all()
        if retried.isEmpty { return .alreadyClosed }
        _ = try await leaveAll(session.connectionID, apiID: session.apiID, in: sql)
        try await join(request.channel.map { [(session, $0)] } ?? [], in: sql)
        return .retried
    }

    /// The memberships of newly connected sessions, in one statement.
    private static func join(_ memberships: [(Session, ChannelName)], in sql: any SQLDatabase) async throws {
        guard !memberships.isEmpty else { return }
        let binds: [any Encodable & Sendable] = memberships.flatMap { session, channel -> [any Encodable & Sendable] in
            [session.connectionID.rawValue, channel.rawValue, session.apiID.rawValue, session.createdAt.milliseconds]
        }
        let statement = StatementTexts.shared.statement("join \(memberships.count)", on: sql, binds: binds) {
            let row: SQLQueryString = "(\(binds: Array(repeating: 0, count: 4)))"
            return """
                INSERT INTO \(ident: Self.members) (connection_id, channel, api_id, joined_at) VALUES \(Array(repeating: row, count: memberships.count).joined(separator: ", "))
                ON CONFLICT (connection_id, channel) DO NOTHING
                """
        }
        _ = try await statement.all(on: sql)
    }

    /// Concurrent disconnects share a statement: one `UPDATE … RETURNING` an API, answering each
    /// session as it was. Nothing is read first.
    public func disconnect(_ id: ConnectionID, apiID: APIID, at date: Date) async throws -> Session? {
        try await disconnects.submit(Disconnect(id: id, apiID: apiID, date: date))
    }

    /// A batch of disconnects, one statement an API, stamped with that group's latest time. Of
    /// several disconnects of one id on one API, the first gets the session; a statement that
    /// fails fails its API's disconnects only.
    private static func disconnect(_ requests: [Disconnect], in sql: any SQLDatabase) async throws -> [Result<Session?, any Error>] {
        struct Key: Hashable {
            let apiID: APIID
            let id: ConnectionID
        }
        var ended: [Key: Session] = [:]
        var failed: [APIID: any Error] = [:]
        for (apiID, group) in Dictionary(grouping: requests, by: \.apiID) {
            let date = group.map(\.date).max()!
            let ids = Array(Set(group.map(\.id.rawValue)))
            let statement = StatementTexts.shared.statement(
                "disconnect \(ids.count)", on: sql, binds: [false, date.milliseconds, apiID.rawValue, true] + ids
            ) {
                """
                UPDATE \(ident: Self.table) SET connected = \(bind: false), updated_at = \(bind: 0)
                WHERE api_id = \(bind: "") AND connected = \(bind: true) AND connection_id IN (\(binds: ids))
                RETURNING \(unsafeRaw: Self.columns)
                """
            }
            do {
                for row in try await statement.all(on: sql) {
                    var session = try Self.session(from: row)
                    session.connected = true  // as it was
                    ended[Key(apiID: session.apiID, id: session.connectionID)] = session
                }
            } catch {
                failed[apiID] = error
            }
        }
        return requests.map { request in
            if let error = failed[request.apiID] { return .failure(error) }
            return .success(ended.removeValue(forKey: Key(apiID: request.apiID, id: request.id)))
        }
    }

    /// Concurrent touches share statements (see `TouchCoalescer`): each message is still counted
    /// by one `UPDATE … RETURNING`, and two messages of one connection never share one.
    public func touch(_ id: ConnectionID, apiID: APIID, at date: Date) async throws -> Session? {
        try await touches.touch(TouchCoalescer.Request(id: id, apiID: apiID, date: date))
    }

    /// One statement: bump every live session among `ids` on `apiID`, returning the new rows.
    private static func touch(_ ids: [ConnectionID], apiID: APIID, at date: Date, in sql: any SQLDatabase) async throws -> [ConnectionID:
        Session]
    {
        let statement = StatementTexts.shared.statement(
            "touch \(ids.count)", on: sql, binds: [date.milliseconds, apiID.rawValue, true] + ids.map(\.rawValue)
        ) {
            """
            UPDATE \(ident: Self.table) SET request_count = request_count + 1, updated_at = \(bind: 0)
            WHERE api_id = \(bind: "") AND connected = \(bind: true) AND connection_id IN (\(binds: ids.map(\.rawValue)))
            RETURNING \(unsafeRaw: Self.columns)
            """
        }
        let rows = try await statement.all(on: sql)
        var sessions: [ConnectionID: Session] = [:]
        for row in rows {
            let session = try Self.session(from: row)
            sessions[session.connectionID] = session
        }
        return sessions
    }

    public func session(_ id: ConnectionID) async throws -> Session? {
        try await sql.raw(
            """
            SELECT \(unsafeRaw: Self.columns) FROM \(ident: Self.table) WHERE connection_id = \(bind: id.rawValue)
            """
        ).first().map(Self.session(from:))
    }

    public func sessions(_ filter: SessionFilter, after: ConnectionID?, limit: Int) async throws -> [Session] {
        var conditions: [SQLQueryString] = ["connection_id > \(bind: after?.rawValue ?? "")"]
        if let apiID = filter.apiID { conditions.append("api_id = \(bind: apiID.rawValue)") }
        if let userID = filter.userID { conditions.append("user_id = \(bind: userID)") }
        if let connected = filter.connected { conditions.append("connected = \(bind: connected)") }
        if let channel = filter.channel {
            conditions.append(
                "connection_id IN (SELECT connection_id FROM \(ident: Self.members) WHERE channel = \(bind: channel.rawValue))")
        }
        return try await sql.raw(
            """
            SELECT \(unsafeRaw: Self.columns) FROM \(ident: Self.table) WHERE \(conditions.joined(separator: " AND "))
            ORDER BY connection_id LIMIT \(unsafeRaw: String(max(0, limit)))
            """
        ).all().map(Self.session(from:))
    }

    public func audience(_ audience: Audience, apiID: APIID, after: ConnectionID?, limit: Int) async throws -> [ConnectionID] {
        if let channel = audience.channel {
            return try await members(of: channel, apiID: apiID, after: after, limit: limit).map(\.connectionID)
        }
        // Every valid id sorts after "", so one statement shape serves the first page and the rest.
        let after = after?.rawValue ?? ""
        var filter: (column: String, value: String)?
        if let id = audience.connectionID {
            filter = ("connection_id", id.rawValue)
        } else if let user = audience.userID {
            filter = ("user_id", user)
        }
        let rows: [any SQLRow]
        if let filter {
            rows = try await sql.raw(
                """
                SELECT connection_id FROM \(ident: Self.table)
                WHERE api_id = \(bind: apiID.rawValue) AND connected = \(bind: true) AND \(ident: filter.column) = \(bind: filter.value)
                  AND connection_id > \(bind: after)
                ORDER BY connection_id LIMIT \(unsafeRaw: String(max(0, limit)))
                """
            ).all()
        } else {
            rows = try await sql.raw(
                """
                SELECT connection_id FROM \(ident: Self.table)
                WHERE api_id = \(bind: apiID.rawValue) AND connected = \(bind: true) AND connection_id > \(bind: after)
                ORDER BY connection_id LIMIT \(unsafeRaw: String(max(0, limit)))
                """
            ).all()
        }
        return try rows.map { try ConnectionID(try $0.decode(column: "connection_id", as: String.self)) }
    }

    public func markGone(_ ids: [ConnectionID], apiID: APIID, at date: Date) async throws -> Int {
        var marked = 0
        for start in stride(from: 0, to: ids.count, by: Self.markGoneChunk) {
            let chunk = ids[start..<min(start + Self.markGoneChunk, ids.count)].map(\.rawValue)
            marked += try await sql.raw(
                """
                UPDATE \(ident: Self.table) SET connected = \(bind: false), updated_at = \(bind: date.milliseconds)
                WHERE api_id = \(bind: apiID.rawValue) AND connected = \(bind: true) AND connection_id IN (\(binds: chunk))
                RETURNING connection_id
                """
            ).all().count
        }
        return marked
    }

    public func connectedCount(apiID: APIID?) async throws -> Int {
        let filter: SQLQueryString = apiID.map { "AND api_id = \(bind: $0.rawValue)" } ?? ""
        let row = try await sql.raw(
            "SELECT COUNT(*) AS live FROM \(ident: Self.table) WHERE connected = \(bind: true) \(filter)"
        ).first()
        return try row?.decode(column: "live", as: Int.self) ?? 0
    }

    public func connectedSessions(of owner: SessionOwner) async throws -> [Session] {
        let match: SQLQueryString =
            switch owner.kind {
            case .webSession(let hash): "web_session_hash = \(bind: hash)"
            case .user(let userID): "user_id = \(bind: userID)"
            case .connection(let id): "connection_id = \(bind: id.rawValue)"
            }
        return try await sql.raw(
            """
            SELECT \(unsafeRaw: Self.columns) FROM \(ident: Self.table)
            WHERE \(match) AND connected = \(bind: true) ORDER BY connection_id
            """
        ).all().map(Self.session(from:))
    }

    public func disconnectSessions(createdBefore date: Date, at now: Date) async throws -> Int {
        try await sql.raw(
            """
            UPDATE \(ident: Self.table) SET connected = \(bind: false), updated_at = \(bind: now.milliseconds)
            WHERE connected = \(bind: true) AND created_at < \(bind: date.milliseconds)
            RETURNING connection_id
            """
        ).all().count
    }

    public func purgeDisconnected(before date: Date) async throws -> Int {
        let sql = try self.sql
        try await sql.raw(
            """
            DELETE FROM \(ident: Self.members) WHERE connection_id IN (
                SELECT connection_id FROM \(ident: Self.table) WHERE connected = \(bind: false) AND updated_at < \(bind: date.milliseconds))
            """
        ).run()
        return try await sql.raw(
            """
            DELETE FROM \(ident: Self.table) WHERE connected = \(bind: false) AND updated_at < \(bind: date.milliseconds)
            RETURNING connection_id
            """
        ).all().count
    }

    private static func session(from row: any SQLRow) throws -> Session {
        try Session(
            stored: try row.decode(column: "connection_id", as: String.self), apiID: try row.decode(column: "api_id", as: String.self),
            stage: try row.decode(column: "stage", as: String.self), userID: try row.decode(column: "user_id", as: String?.self),
            webSessionHash: try row.decode(column: "web_session_hash", as: String?.self),
            authStateHash: try row.decode(column: "auth_state_hash", as: String?.self),
            connected: try row.decode(column: "connected", as: Bool.self),
            requestCount: try row.decode(column: "request_count", as: Int.self),
            createdAt: try row.decode(column: "created_at", as: Int64.self), updatedAt: try row.decode(column: "updated_at", as: Int64.self)
        )
    }
}

/// The store cannot work with what it was given.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case notSQL
        case unavailable(String)
    }

    private let kind: Kind

    /// The database is not an SQL database.
    public static let notSQL = StoreError(kind: .notSQL)

    /// The database cannot be had (an app shutting down), with why.
    public static func unavailable(_ reason: String) -> StoreError { StoreError(kind: .unavailable(reason)) }

    public var description: String {
        switch kind {
        case .notSQL: "FluentConnectionStore needs an SQL database (SQLite, PostgreSQL, MySQL)"
        case .unavailable(let reason): "the database is not available: \(reason)"
        }
    }
}
