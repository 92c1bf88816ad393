import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import ChatApp
import Foundation
import HTTPTypes
import NIOCore
import PeerSupport
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

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

/// A stream message's own keys, as strings, once its position (an integer `offset` and a string
/// `epoch`) is checked and taken off; `[:]` for a message without one.
func streamed(_ text: String) -> [String: String] {
    var object = jsonAny(text)
    guard object.removeValue(forKey: "offset") is Int, object.removeValue(forKey: "epoch") is String else { return [:] }
    return object.compactMapValues { $0 as? String }
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
