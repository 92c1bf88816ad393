import SQLKit
import Synchronization

/// The SQL text of the store's busiest statements, built by SQLKit once per dialect and shape
/// (how many rows a batch names) and then sent with each call's values.
///
/// Built anew, the interpolation and its serialization cost more than the statement's run on
/// SQLite: 90,000 instructions of a connect and its disconnect went to building their text
/// (`Benchmarks/README.md`, the regression counts before and after). The drivers still parse what they are sent (SQLiteNIO prepares every
/// query and offers no statement cache).
final class StatementTexts: Sendable {
    static let shared = StatementTexts()

    private let texts = Mutex<[String: String]>([:])

    /// The statement `key` with `binds`: its text built by `build` the first time it is asked for
    /// on this dialect, with the same binds in the same order (their values do not matter then).
    func statement(
        _ key: String, on sql: any SQLDatabase, binds: [any Encodable & Sendable], build: () -> SQLQueryString
    ) -> CachedStatement {
        let cacheKey = sql.dialect.name + ":" + key
        if let text = texts.withLock({ $0[cacheKey] }) { return CachedStatement(text: text, binds: binds) }
        var serializer = SQLSerializer(database: sql)
        build().serialize(to: &serializer)
        precondition(serializer.binds.count == binds.count, "statement \(key): \(serializer.binds.count) placeholders, \(binds.count) binds")
        texts.withLock { $0[cacheKey] = serializer.sql }
        return CachedStatement(text: serializer.sql, binds: binds)
    }
}

/// A statement's cached text and this call's values.
struct CachedStatement: SQLExpression {
    let text: String
    let binds: [any Encodable & Sendable]

    func serialize(to serializer: inout SQLSerializer) {
        serializer.write(text)
        serializer.binds += binds
    }

    /// Runs it, answering its rows.
    func all(on sql: any SQLDatabase) async throws -> [any SQLRow] {
        let rows = Rows()
        try await sql.execute(sql: self) { row in rows.rows.withLock { $0.append(row) } }
        return rows.rows.withLock { $0 }
    }

    private final class Rows: Sendable {
        let rows = Mutex<[any SQLRow]>([])
    }
}
