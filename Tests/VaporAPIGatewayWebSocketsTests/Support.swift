import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import HTTPTypes
import PeerSupport
import SQLKit
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

/// Runs `body` with a migrated app on a fresh SQLite file, and shuts it down after.
func withSQLiteApp<T>(path: String? = nil, _ body: (Application) async throws -> T) async throws -> T {
    let database = TemporaryDatabase()
    let app = try await Application.make(.testing)
    do {
        // Patience for the pool on a busy machine: the concurrency checks queue 64 transactions on it.
        app.databases.use(.sqlite(.file(path ?? database.path), connectionPoolTimeout: .seconds(60)), as: .sqlite)
        app.migrations.add(WebSocketMigrations.all)
        try await app.autoMigrate()
        let result = try await body(app)
        try await app.asyncShutdown()
        if path == nil { database.cleanUp() }
        return result
    } catch {
        try? await app.asyncShutdown()
        if path == nil { database.cleanUp() }
        throw error
    }
}

/// Runs `body` with a migrated app on PostgreSQL, in a schema of its own that is dropped after;
/// skipped (or, in CI, failed) without a server: see ``PostgresPeer``.
func withPostgresApp(test: String = #function, _ body: (Application) async throws -> Void) async throws {
    guard let url = PostgresPeer.require(test: test) else { return }
    let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    var configuration = try SQLPostgresConfiguration(url: url)
    configuration.searchPath = [schema]
    let app = try await Application.make(.testing)
    // Concurrency checks hold a connection per waiting transaction: room for them, and patience on a busy machine.
    app.databases.use(
        .postgres(configuration: configuration, maxConnectionsPerEventLoop: 8, connectionPoolTimeout: .seconds(60)), as: .psql)
    let sql = app.db as! any SQLDatabase
    do {
        try await sql.raw("CREATE SCHEMA \(ident: schema)").run()
        app.migrations.add(WebSocketMigrations.all)
        try await app.autoMigrate()
        try await body(app)
        try await sql.raw("DROP SCHEMA \(ident: schema) CASCADE").run()
        try await app.asyncShutdown()
    } catch {
        try? await sql.raw("DROP SCHEMA \(ident: schema) CASCADE").run()
        try? await app.asyncShutdown()
        throw error
    }
}
