import APIGatewayWebSocketsSQL
import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import Logging
import NIOPosix
import PeerSupport
import SQLKit

/// A migrated database with no web framework around it: FluentKit's `Databases`, as a Hummingbird
/// app, a worker or a command opens it.
struct StoreDatabase {
    let databases: Databases
    let logger = Logger(label: "sql-store-tests")

    /// The database for one operation.
    var db: any Database { try! databases.gatewayDatabase(logger: logger) }

    static func open() -> Databases { Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton) }
}

/// Runs `body` with the framework's tables migrated into a fresh SQLite file, then shuts down.
func withSQLite<T>(_ body: (StoreDatabase) async throws -> T) async throws -> T {
    let file = TemporaryDatabase()
    let databases = StoreDatabase.open()
    defer { file.cleanUp() }
    do {
        // Patience for the pool on a busy machine: the concurrency checks queue 64 transactions on it.
        databases.use(.sqlite(.file(file.path), connectionPoolTimeout: .seconds(60)), as: .sqlite)
        let database = StoreDatabase(databases: databases)
        try await databases.migrateGateway(logger: database.logger)
        let result = try await body(database)
        await databases.shutdownAsync()
        return result
    } catch {
        await databases.shutdownAsync()
        throw error
    }
}

/// Runs `body` with the framework's tables migrated into PostgreSQL, in a schema of its own that is
/// dropped after; skipped (or, in CI, failed) without a server: see ``PostgresPeer``.
func withPostgres(test: String = #function, _ body: (StoreDatabase) async throws -> Void) async throws {
    guard let url = PostgresPeer.require(test: test) else { return }
    let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    var configuration = try SQLPostgresConfiguration(url: url)
    configuration.searchPath = [schema]
    let databases = StoreDatabase.open()
    // Concurrency checks hold a connection per waiting transaction: room for them, and patience on a busy machine.
    databases.use(.postgres(configuration: configuration, maxConnectionsPerEventLoop: 8, connectionPoolTimeout: .seconds(60)), as: .psql)
    let database = StoreDatabase(databases: databases)
    let sql = database.db as! any SQLDatabase
    do {
        try await sql.raw("CREATE SCHEMA \(ident: schema)").run()
        try await databases.migrateGateway(logger: database.logger)
        try await body(database)
        try await sql.raw("DROP SCHEMA \(ident: schema) CASCADE").run()
        await databases.shutdownAsync()
    } catch {
        try? await sql.raw("DROP SCHEMA \(ident: schema) CASCADE").run()
        await databases.shutdownAsync()
        throw error
    }
}
