import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import ChatApp
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

/// The chat example's own pages, as a browser on its origin calls them.
struct ChatBrowser {
    let app: Application
    var origin: String? = "http://127.0.0.1:8080"

    /// `POST path` with a form body and `cookie`, answered in process.
    func post(_ path: String, form: [(String, String)] = [], cookie: String? = nil) async throws -> GatewayResponse {
        var fields = HTTPFields()
        fields[.contentType] = "application/x-www-form-urlencoded"
        if let origin { fields[.origin] = origin }
        if let cookie { fields[.cookie] = cookie }
        let body = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return try await InProcessTransport(app: app).send(
            GatewayRequest(method: .post, path: path, headerFields: fields, body: ByteBuffer(string: body)))
    }

    /// Logs in as `name` with the demo password and answers the session cookie.
    func login(_ name: String, password: String = ChatDemo.defaultPassword) async throws -> String {
        let response = try await post("/login", form: [("name", name), ("password", password)])
        guard response.status == .ok, let setCookie = response.headerFields[.setCookie] else {
            throw ChatBrowserError(description: "login as \(name) answered \(response.status)")
        }
        return String(setCookie.split(separator: ";")[0])
    }

    /// The headers a browser logged in as `name` sends on `$connect`.
    func connectHeaders(_ name: String) async throws -> HTTPFields {
        var fields = HTTPFields()
        fields[.cookie] = try await login(name)
        if let origin { fields[.origin] = origin }
        return fields
    }
}

struct ChatBrowserError: Error, CustomStringConvertible { let description: String }
