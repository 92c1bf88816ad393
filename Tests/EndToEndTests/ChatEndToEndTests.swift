import APIGatewayAWS
import APIGatewayWebSockets
import AsyncHTTPClient
import ChatApp
import Foundation
import NIOCore
import PeerSupport
import Testing
import Vapor
import VaporAPIGatewayWebSockets

@testable import APIGatewayLocal

/// The whole system on loopback: WebSocket clients → the local gateway → the chat example
/// (Vapor, SQLite) → ManagementClient → the local gateway's `@connections` → clients.
@Suite(.serialized) struct ChatEndToEndTests {
    struct System {
        let app: Application
        let chat: WebSocketGateway
        let gateway: LocalGateway
        let settings: ChatSettings
        let database: String
        let backend: String
        /// The API the planner applied to the local gateway at start.
        let apiID: APIID
        var url: String { chat.clientSettings!.url }

        func session(_ id: String) async throws -> APIGatewayWebSockets.Session? {
            try await chat.dispatcher.store.session(try ConnectionID(id))
        }

        func channels(_ id: String) async throws -> [String] {
            try await chat.dispatcher.store.channels(of: try ConnectionID(id), apiID: apiID).map(\.rawValue)
        }

        func stop() async throws {
            try await gateway.stop()
            await app.server.shutdown()
            try await app.asyncShutdown()
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        }

        /// `POST path` to the backend as the chat's own page would, with `cookie`.
        func post(_ path: String, form: String = "", cookie: String? = nil) async throws
            -> (status: Int, cookie: String?, body: String, headers: HTTPHeaders)
        {
            try await postForm(backend + path, form: form, cookie: cookie, headers: [("Origin", "http://127.0.0.1:8080")])
        }

        /// Logs in as `name` (a demo account) and answers the session cookie.
        func login(_ name: String) async throws -> String {
            let response = try await post("/login", form: "name=\(name)&password=\(ChatDemo.defaultPassword)")
            guard response.status == 200, let cookie = response.cookie else {
                throw LoginFailed(status: response.status)
            }
            return cookie
        }
    }

    /// - Parameter allowedOrigins: the pages that may log in (default the app's own on 8080, as a
    ///   test's requests say); a browser on the backend's own port needs `["127.0.0.1"]`.
    func start(allowedOrigins: [String]? = nil) async throws -> System {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(UUID().uuidString).sqlite").path
        let gateway = LocalGateway(configuration: LocalGatewayConfiguration(port: 0))
        try await gateway.start()
        var settings = ChatSettings(databasePath: database)
        if let allowedOrigins { settings.allowedOrigins = allowedOrigins }
        let app = try await Application.make(.testing)
        let chat = try await configureChat(app, settings: settings, registerAPI: false)
        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = 0
        try await app.server.start(address: nil)
        let backend = "http://127.0.0.1:\(app.http.server.shared.localAddress!.port!)"
        // The guide's step, as the example walks it at start: the planner applies the app's routes.
        let record = try await ChatProvisioning.provisionLocalGateway(
            app, gateway: chat, settings: settings, backend: backend, controlPlane: "http://127.0.0.1:\(gateway.port!)")
        return System(
            app: app, chat: chat, gateway: gateway, settings: settings, database: database, backend: backend, apiID: record.apiID)
    }

    /// Connects (as a browser on the chat's page logged in with `cookie`, when given) and returns
    /// the client with the connection id the backend recorded for it.
    func join(_ system: System, _ query: String, cookie: String?) async throws -> (TestClient, String) {
        let before = Set(system.gateway.connections.all.map(\.id))
        var headers = HTTPHeaders()
        if let cookie {
            headers.add(name: "Cookie", value: cookie)
            headers.add(name: "Origin", value: "http://127.0.0.1:8080")
        }
        let client = try await TestClient.connect(system.url + query, headers: headers)
        var id: String?
        _ = await eventually {
            id = system.gateway.connections.all.map(\.id).first { !before.contains($0) }
            return id != nil
        }
        return (client, try #require(id))
    }

    @Test func chatRoundTrips() async throws {
        let system = try await start()
        let adaCookie = try await system.login("ada"), bobCookie = try await system.login("bob")
        // Connect: the backend records the session, its user from the login.
        let (ada, adaID) = try await join(system, "?channel=games&name=mallory", cookie: adaCookie)
        let session = try await system.session(adaID)
        #expect(session?.userID == "ada" && session?.connected == true)
        #expect(try await system.channels(adaID) == ["games"])

        // A custom route and handler: the reply comes back through @connections.
        try await ada.send(#"{"action":"notifications","handler":"subscribe","topic":"deploys"}"#)
        #expect(await ada.next() == #"{"subscribed":"deploys"}"#)
        // $default echo.
        try await ada.send("plain text")
        #expect(await ada.next() == #"{"echo":"plain text"}"#)

        // Multicast: three clients in a channel all get it; the outsider does not.
        let (bob, _) = try await join(system, "?channel=games", cookie: bobCookie)
        let (admin, _) = try await join(system, "?channel=games", cookie: try await system.login("admin"))
        let (outsider, outsiderID) = try await join(system, "?channel=random", cookie: bobCookie)
        try await bob.send(#"{"action":"sendmessage","text":"hello room"}"#)
        for client in [ada, bob, admin] {
            let text = await client.next()
            // With its place in the room's stream.
            #expect(streamed(text ?? "") == ["type": "message", "channel": "games", "from": "bob", "text": "hello room"], "\(text ?? "nothing")")
        }
        #expect(await outsider.next(timeout: .milliseconds(200)) == nil)

        // Broadcast: staff announce to everyone; bob may not.
        try await admin.send(#"{"action":"announce","text":"hello everyone"}"#)
        for client in [ada, bob, admin, outsider] {
            let text = await client.next()
            #expect(object(text) == ["type": "message", "from": "admin", "text": "hello everyone"], "\(text ?? "nothing")")
        }
        try await bob.send(#"{"action":"announce","text":"me too"}"#)
        #expect(await outsider.next(timeout: .milliseconds(200)) == nil, "a refused announce reaches nobody")

        // Closing updates the store, and the room hears of it.
        try await outsider.close()
        #expect(await eventually { (try? await system.session(outsiderID)?.connected) == false })
        for client in [ada, bob, admin] { try await client.close() }
        try await system.stop()
    }

    /// The chat's `$default` route is two-way: its answers to the sender reach the client in the
    /// integration's response, counted by the local gateway, with no `@connections` post; what goes
    /// to the room, and the one-way `notifications` route's reply, are posted.
    @Test func answersReachTheClientWithoutAPost() async throws {
        let system = try await start()
        let (ada, _) = try await join(system, "?channel=games", cookie: try await system.login("ada"))
        let before = system.gateway.deliveries
        try await ada.send(#"{"action":"whoami","id":"w"}"#)
        let whoami = (try? JSONSerialization.jsonObject(with: Data((await ada.next() ?? "").utf8))) as? [String: Any]
        #expect(whoami?["id"] as? String == "w" && whoami?["user"] as? String == "ada", "\(whoami ?? [:])")
        try await ada.send("plain text")
        #expect(await ada.next() == #"{"echo":"plain text"}"#)
        try await ada.send(#"{"action":"join","channel":"staff","id":"j"}"#)
        #expect(object(await ada.next())["type"] == "error", "a refusal under an id comes back the same way")
        // Counted just after the frame is queued, so the client may read it a moment before.
        #expect(
            await eventually { system.gateway.deliveries == .init(posts: before.posts, routeResponses: before.routeResponses + 3) },
            "three answers, no post: \(system.gateway.deliveries)")

        try await ada.send(#"{"action":"sendmessage","channel":"games","text":"hi","id":"s"}"#)
        var frames: [[String: String]] = []
        for _ in 0..<2 { frames.append(object(await ada.next())) }
        #expect(frames.contains { $0["type"] == "sent" && $0["id"] == "s" }, "the receipt: \(frames)")
        #expect(frames.contains { $0["type"] == "message" && $0["text"] == "hi" }, "the room's message: \(frames)")
        try await ada.send(#"{"action":"notifications","handler":"subscribe","topic":"deploys"}"#)
        #expect(await ada.next() == #"{"subscribed":"deploys"}"#)
        #expect(
            await eventually { system.gateway.deliveries == .init(posts: before.posts + 2, routeResponses: before.routeResponses + 4) },
            "the room's message and the one-way route's reply are posted: \(system.gateway.deliveries)")
        try await ada.close()
        try await system.stop()
    }

    /// The issue's walk: log in, get a token, connect with it as that user, be refused in `staff`
    /// as bob and accepted as admin, be in two rooms at once, see who is present, and lose the
    /// connection on logout.
    @Test func loginTokenRoomsPresenceAndLogout() async throws {
        let system = try await start()
        let bobCookie = try await system.login("bob")
        let issued = try await system.post("/ws/token", cookie: bobCookie)
        #expect(issued.status == 200)
        let token = try #require(
            (try? JSONSerialization.jsonObject(with: Data(issued.body.utf8)) as? [String: Any])?["token"] as? String)
        // A client that is not a browser: no cookie, no Origin, the token in the query.
        let (bob, bobID) = try await join(system, "?ws_token=\(token)&channel=lobby", cookie: nil)
        #expect(try await system.session(bobID)?.userID == "bob")
        try await bob.send(#"{"action":"join","channel":"staff"}"#)
        #expect(await bob.next(timeout: .milliseconds(500)) == nil, "bob is refused the staff room")
        #expect(try await system.channels(bobID) == ["lobby"])

        let adminCookie = try await system.login("admin")
        let (admin, adminID) = try await join(system, "?channel=staff", cookie: adminCookie)
        try await admin.send(#"{"action":"join","channel":"lobby"}"#)
        let joined = await admin.next()
        #expect(object(joined)["type"] == "joined" || object(joined)["event"] == "joined", "\(joined ?? "nothing")")
        #expect(await eventually { (try? await system.channels(adminID)) == ["lobby", "staff"] }, "admin is in two rooms")
        _ = await admin.next(timeout: .milliseconds(300))  // the other of the join's two frames
        // Bob hears admin join the lobby: waited for by content, not by time, so that a late frame
        // is not read below as the answer to presence.
        var heard: String?
        repeat { heard = await bob.next() } while heard != nil && object(heard)["user"] != "admin"
        #expect(object(heard)["event"] == "joined", "\(heard ?? "nothing")")

        try await bob.send(#"{"action":"presence","channel":"lobby"}"#)
        let presence = await bob.next()
        let users = (try? JSONSerialization.jsonObject(with: Data((presence ?? "").utf8)) as? [String: Any])?["users"] as? [String]
        #expect(users == ["admin", "bob"], "\(presence ?? "nothing")")

        // Logging out closes that login's connections through @connections; the client sees it.
        let logout = try await system.post("/logout", cookie: adminCookie)
        #expect(logout.status == 200)
        #expect(await admin.closeCode() != nil, "the client sees its connection closed")
        #expect(await eventually { (try? await system.session(adminID)?.connected) == false }, "API Gateway's $disconnect marked it")
        let left = await bob.next()
        #expect(object(left)["event"] == "left" && object(left)["user"] == "admin", "\(left ?? "nothing")")
        try await bob.close()
        try await system.stop()
    }
}

/// `chat-example serve --port N`: the local gateway was configured from the server's settings
/// before Vapor read `--port`, so it called the backend on 8080 and every connect got 502.
@Test func serveOnAnotherPortPointsTheLocalGatewayThere() async throws {
    let database = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString).sqlite").path
    defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) } }
    let app = try await Application.make(
        Environment(name: "testing", arguments: ["chat-example", "serve", "--hostname", "127.0.0.1", "--port", "0"]))
    let settings = ChatSettings(databasePath: database)
    let chat = try await configureChat(app, settings: settings, registerAPI: false)
    app.asyncCommands.use(ServeWithLocalGateway(gatewayPort: 0, settings: settings, gateway: chat), as: "serve", isDefault: true)
    try await app.startup()
    let gateway = try #require(app.localGateway)
    let cookie = try await loginOverHTTP(app, "ada")
    let url = try #require(chat.clientSettings?.url, "the planner applied the API at start")
    #expect(url.hasPrefix("ws://127.0.0.1:\(gateway.port!)/"))
    let client = try await TestClient.connect(url, headers: ["Cookie": cookie, "Origin": "http://127.0.0.1:8080"])
    #expect(await eventually { !gateway.connections.all.isEmpty })
    let id = try #require(gateway.connections.all.first?.id)
    #expect(try await chat.dispatcher.store.session(try ConnectionID(id))?.userID == "ada")
    try await client.close()
    try await app.asyncShutdown()
    #expect(gateway.connectionCount == 0, "the gateway stopped with the app")
}

/// Logs in to the running example as `name`, over HTTP, and answers the session cookie.
func loginOverHTTP(_ app: Application, _ name: String) async throws -> String {
    let port = try #require(app.http.server.shared.localAddress?.port)
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/login")
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
    request.body = .bytes(ByteBuffer(string: "name=\(name)&password=\(ChatDemo.defaultPassword)"))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let setCookie = try #require(response.headers.first(name: "Set-Cookie"), "login answered \(response.status)")
    return String(setCookie.split(separator: ";")[0])
}

struct LoginFailed: Error { let status: Int }

/// `POST url` with a URL-encoded `form`, `cookie` and `headers`, as a page's form is sent: the
/// answer's status, the session cookie it sets (name=value), and its body.
func postForm(_ url: String, form: String, cookie: String?, headers: [(String, String)]) async throws
    -> (status: Int, cookie: String?, body: String, headers: HTTPHeaders)
{
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let cookie { request.headers.add(name: "Cookie", value: cookie) }
    request.body = .bytes(ByteBuffer(string: form))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
    let cookie = response.headers.first(name: "Set-Cookie").map { String($0.split(separator: ";")[0]) }
    return (Int(response.status.code), cookie, body, response.headers)
}

/// A JSON object of strings, from a received frame (empty for anything else).
func object(_ text: String?) -> [String: String] {
    guard let text, let value = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [:] }
    return value.compactMapValues { $0 as? String }
}
