import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import ChatApp
import Fluent
import FluentSQLiteDriver
import Foundation
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

/// A temporary SQLite file path, removed (with its WAL files) by `cleanUp`.
struct TemporaryDatabase {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("apigw-\(UUID().uuidString).sqlite").path

    func cleanUp() {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}

/// Runs `body` with a migrated app on a fresh SQLite file, and shuts it down after.
func withSQLiteApp<T>(path: String? = nil, _ body: (Application) async throws -> T) async throws -> T {
    let database = TemporaryDatabase()
    let app = try await Application.make(.testing)
    do {
        app.databases.use(.sqlite(.file(path ?? database.path)), as: .sqlite)
        app.migrations.add(CreateWebSocketTables())
        app.migrations.add(CreateIdentityTables())
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

/// Runs `body` with the chat example configured on `path`, recording posts, and shuts it down.
func withChatApp<T>(path: String, poster: RecordingPoster, _ body: (Application, WebSocketGateway) async throws -> T) async throws -> T {
    let app = try await Application.make(.testing)
    do {
        let gateway = try await configureChat(app, settings: ChatSettings(databasePath: path), poster: poster)
        let result = try await body(app, gateway)
        try await app.asyncShutdown()
        return result
    } catch {
        try? await app.asyncShutdown()
        throw error
    }
}

func json(_ text: String) -> [String: String] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]) ?? [:]
}

func jsonAny(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
}
