import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import SQLKit
import SQLiteNIO

/// Issue 16 asked whether the SQL store should speak FluentKit/SQLKit or the drivers directly.
/// The store sends its own SQL through SQLKit on FluentKit's `Databases`; this sends the same
/// statements (a connect's insert, a message's touch, a lookup by id) one at a time, as an event
/// does, through that layer, through SQLKit on the driver's own connection (SQLite), and through
/// SQLiteNIO and PostgresNIO directly, on one connection each, the order rotating between rounds,
/// and prints operations per second and the ratio to the driver.
///
/// `swift run -c release StoreDriverBenchmark [rows] [postgres-url]`; PostgreSQL also from
/// `APIGW_POSTGRES_URL`. Every loop is bounded by its row count.
@main
enum StoreDriverBenchmark {
    /// One way of running a statement with its binds.
    struct Layer: Sendable {
        let name: String
        let insert: @Sendable (String, String, Int) async throws -> Void
        let touch: @Sendable (String, Int) async throws -> Void
        let find: @Sendable (String) async throws -> Int
    }

    static func main() async throws {
        let arguments = CommandLine.arguments
        let rows = arguments.count > 1 ? Int(arguments[1]) ?? 2_000 : 2_000
        let postgresURL = arguments.count > 2 ? arguments[2] : ProcessInfo.processInfo.environment["APIGW_POSTGRES_URL"]
        let logger = {
            var logger = Logger(label: "store-driver-benchmark")
            logger.logLevel = .warning
            return logger
        }()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-driver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        print("rows per round: \(rows); each figure the median of 3 rounds, the layers alternating")
        print("| database | statement | layer | ops/s | ÷ driver |")
        print("| --- | --- | --- | ---: | ---: |")

        // SQLite: one file per layer, WAL as a server would run it.
        let databases = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)
        databases.use(.sqlite(.file(folder.appendingPathComponent("fluent.sqlite").path)), as: .sqlite)
        let fluent = try require(databases.database(logger: logger, on: MultiThreadedEventLoopGroup.singleton.any()) as? any SQLDatabase)
        let sqlite = try await SQLiteConnection.open(storage: .file(path: folder.appendingPathComponent("driver.sqlite").path), logger: logger)
        for statement in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", table] {
            try await fluent.raw(SQLQueryString(statement)).run()
            _ = try await sqlite.query(statement, [])
        }
        try await compare(
            "SQLite", rows: rows, [sqlKit(fluent), sqlKit(sqlite.sql(), name: "SQLKit on the driver's connection")],
            Layer(
                name: "SQLiteNIO",
                insert: { id, api, n in _ = try await sqlite.query(insertText("?", "?", "?"), [.text(id), .text(api), .integer(n)]) },
                touch: { id, n in _ = try await sqlite.query(touchText("?", "?"), [.integer(n), .text(id)]) },
                find: { id in try await sqlite.query(findText("?"), [.text(id)]).first?.column("n")?.integer ?? -1 }))
        try await sqlite.close()

        if let postgresURL {
            databases.use(try .postgres(url: postgresURL, maxConnectionsPerEventLoop: 1), as: .psql, isDefault: true)
            let fluent = try require(databases.database(.psql, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any()) as? any SQLDatabase)
            let configuration = try SQLPostgresConfiguration(url: postgresURL).coreConfiguration
            let postgres = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            try await fluent.raw("DROP TABLE IF EXISTS bench_sessions").run()
            try await fluent.raw(SQLQueryString(table)).run()
            try await compare(
                "PostgreSQL", rows: rows, [sqlKit(fluent)],
                Layer(
                    name: "PostgresNIO",
                    insert: { id, api, n in
                        try await postgres.query("INSERT INTO bench_sessions (id, api, n) VALUES (\(id), \(api), \(n))", logger: logger)
                    },
                    touch: { id, n in try await postgres.query("UPDATE bench_sessions SET n = \(n) WHERE id = \(id)", logger: logger) },
                    find: { id in
                        for try await n in try await postgres.query("SELECT n FROM bench_sessions WHERE id = \(id)", logger: logger).decode(Int.self) {
                            return n
                        }
                        return -1
                    }))
            try await fluent.raw("DROP TABLE IF EXISTS bench_sessions").run()
            try await postgres.close()
        } else {
            print("PostgreSQL: not measured (no APIGW_POSTGRES_URL or second argument)")
        }
        await databases.shutdownAsync()
    }

    static let table = "CREATE TABLE IF NOT EXISTS bench_sessions (id TEXT PRIMARY KEY, api TEXT NOT NULL, n BIGINT NOT NULL)"
    static func insertText(_ id: String, _ api: String, _ n: String) -> String { "INSERT INTO bench_sessions (id, api, n) VALUES (\(id), \(api), \(n))" }
    static func touchText(_ n: String, _ id: String) -> String { "UPDATE bench_sessions SET n = \(n) WHERE id = \(id)" }
    static func findText(_ id: String) -> String { "SELECT n FROM bench_sessions WHERE id = \(id)" }

    /// The store's way: SQLKit's raw SQL with binds, on FluentKit's database.
    static func sqlKit(_ sql: any SQLDatabase, name: String = "FluentKit + SQLKit (the store's)") -> Layer {
        Layer(
            name: name,
            insert: { id, api, n in try await sql.raw("INSERT INTO bench_sessions (id, api, n) VALUES (\(bind: id), \(bind: api), \(bind: n))").run() },
            touch: { id, n in try await sql.raw("UPDATE bench_sessions SET n = \(bind: n) WHERE id = \(bind: id)").run() },
            find: { id in try await sql.raw("SELECT n FROM bench_sessions WHERE id = \(bind: id)").first()?.decode(column: "n", as: Int.self) ?? -1 })
    }

    /// Three rounds of `rows` inserts, touches and finds through each layer in turn (the order
    /// rotating), each round on fresh ids; prints the medians against the driver's.
    static func compare(_ database: String, rows: Int, _ layers: [Layer], _ driver: Layer) async throws {
        var rates: [String: [String: [Double]]] = [:]
        let all = layers + [driver]
        for round in 0..<3 {
            for index in all.indices {
                let layer = all[(index + round) % all.count]
                let ids = (0..<rows).map { "\(index)-\(round)-\($0)-\(UUID().uuidString.prefix(8))" }
                func timed(_ body: (String, Int) async throws -> Void) async throws -> Double {
                    let start = ContinuousClock.now
                    for (n, id) in ids.enumerated() { try await body(id, n) }
                    let elapsed = start.duration(to: .now)
                    return Double(rows) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                }
                rates[layer.name, default: [:]]["insert", default: []].append(try await timed { id, n in try await layer.insert(id, "api", n) })
                rates[layer.name, default: [:]]["touch", default: []].append(try await timed { id, n in try await layer.touch(id, n + 1) })
                rates[layer.name, default: [:]]["find", default: []].append(
                    try await timed { id, n in
                        let found = try await layer.find(id)
                        guard found == n + 1 else { throw Mismatch(description: "\(layer.name) read \(found) for \(id), not \(n + 1)") }
                    })
            }
        }
        for statement in ["insert", "touch", "find"] {
            let base = median(rates[driver.name]![statement]!)
            for layer in all {
                let rate = median(rates[layer.name]![statement]!)
                print("| \(database) | \(statement) | \(layer.name) | \(Int(rate)) | \(String(format: "%.2f", rate / base)) |")
            }
        }
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    struct Mismatch: Error, CustomStringConvertible { let description: String }
}

/// `#require` outside a test: the value, or a clear error.
func `require`<T>(_ value: T?) throws -> T {
    guard let value else { throw StoreDriverBenchmark.Mismatch(description: "a database of the wrong kind") }
    return value
}
