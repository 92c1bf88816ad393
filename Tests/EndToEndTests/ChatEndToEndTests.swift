import APIGatewayAWS
import APIGatewayWebSockets
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
        var url: String { "ws://127.0.0.1:\(gateway.port!)/chatlocal/local" }

        func session(_ id: String) async throws -> APIGatewayWebSockets.Session? {
            try await chat.dispatcher.store.session(try ConnectionID(id))
        }

        func stop() async throws {
            try await gateway.stop()
            await app.server.shutdown()
            try await app.asyncShutdown()
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        }
    }

    func start() async throws -> System {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(UUID().uuidString).sqlite").path
        let gateway = LocalGateway(configuration: LocalGatewayConfiguration(port: 0))
        try await gateway.start()
        var settings = ChatSettings(databasePath: database)
        settings.gateway.managementEndpoint = try ManagementEndpoint(url: "http://127.0.0.1:\(gateway.port!)/chatlocal/local")
        let app = try await Application.make(.testing)
        let chat = try await configureChat(app, settings: settings)
        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = 0
        try await app.server.start(address: nil)
        let backend = "http://127.0.0.1:\(app.http.server.shared.localAddress!.port!)"
        try gateway.register(chatLocalAPI(backend: backend, settings: settings, routes: chat.registeredRoutes))
        return System(app: app, chat: chat, gateway: gateway, settings: settings, database: database)
    }

    /// Connects and returns the client with the connection id the backend recorded for it.
    func join(_ system: System, _ query: String) async throws -> (TestClient, String) {
        let before = Set(system.gateway.connections.all.map(\.id))
        let client = try await TestClient.connect(system.url + query)
        var id: String?
        _ = await eventually {
            id = system.gateway.connections.all.map(\.id).first { !before.contains($0) }
            return id != nil
        }
        return (client, try #require(id))
    }

    @Test func chatRoundTrips() async throws {
        let system = try await start()
        // Connect: the backend records the session.
        let (ada, adaID) = try await join(system, "?channel=room&name=ada")
        let session = try await system.session(adaID)
        #expect(session?.channel?.rawValue == "room" && session?.userID == "ada" && session?.connected == true)

        // A custom route and handler: the reply comes back through @connections.
        try await ada.send(#"{"action":"notifications","handler":"subscribe","topic":"deploys"}"#)
        #expect(await ada.next() == #"{"subscribed":"deploys"}"#)
        // $default echo.
        try await ada.send("plain text")
        #expect(await ada.next() == #"{"echo":"plain text"}"#)

        // Multicast: three clients in a channel all get it; the outsider does not.
        let (bob, _) = try await join(system, "?channel=room&name=bob")
        let (cy, _) = try await join(system, "?channel=room&name=cy")
        let (outsider, outsiderID) = try await join(system, "?channel=elsewhere")
        try await bob.send(#"{"action":"sendmessage","text":"hello room"}"#)
        for client in [ada, bob, cy] {
            let text = await client.next()
            #expect(text == #"{"from":"bob","text":"hello room"}"#)
        }
        #expect(await outsider.next(timeout: .milliseconds(200)) == nil)

        // Broadcast: a client with no channel sends to everyone.
        let (loner, lonerID) = try await join(system, "?name=loner")
        try #require(try await system.session(lonerID)?.channel == nil)
        try await loner.send(#"{"action":"sendmessage","text":"hello everyone"}"#)
        for client in [ada, bob, cy, outsider, loner] {
            let text = await client.next()
            #expect(text == #"{"from":"loner","text":"hello everyone"}"#)
        }

        // Closing updates the store.
        try await outsider.close()
        #expect(await eventually { (try? await system.session(outsiderID)?.connected) == false })
        for client in [ada, bob, cy, loner] { try await client.close() }
        try await system.stop()
    }
}

/// The example's defaults point its replies at the local gateway it starts beside itself.
@Test func chatDefaultsPostToTheLocalGateway() throws {
    let settings = ChatSettings()
    let endpoint = try #require(settings.gateway.managementEndpoint)
    #expect(endpoint.port == LocalGatewayConfiguration().port && endpoint.host == "127.0.0.1")
    #expect(endpoint.basePath == "/\(settings.gateway.apiID)/\(settings.gateway.stage)")
    let routes = try ["$connect", "$disconnect", "$default"].map {
        RegisteredRoute(routeKey: try RouteKey($0), path: "/ws/x", event: .message)
    }
    let api = chatLocalAPI(backend: "http://127.0.0.1:8080", settings: settings, routes: routes)
    #expect(api.apiId == settings.gateway.apiID.rawValue && api.stages[settings.gateway.stage] != nil)
    #expect(settings.credentials == LocalGatewayConfiguration.developmentCredential)
}

/// `chat-example serve --port N`: the local gateway was configured from the server's settings
/// before Vapor read `--port`, so it called the backend on 8080 and every connect got 502.
@Test func serveOnAnotherPortPointsTheLocalGatewayThere() async throws {
    let database = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString).sqlite").path
    defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) } }
    let app = try await Application.make(
        Environment(name: "testing", arguments: ["chat-example", "serve", "--hostname", "127.0.0.1", "--port", "0"]))
    let settings = ChatSettings(databasePath: database)
    let chat = try await configureChat(app, settings: settings)
    app.asyncCommands.use(
        ServeWithLocalGateway(gatewayPort: 0, settings: settings, routes: chat.registeredRoutes), as: "serve", isDefault: true)
    try await app.startup()
    let gateway = try #require(app.localGateway)
    let client = try await TestClient.connect("ws://127.0.0.1:\(gateway.port!)/chatlocal/local?name=ada")
    #expect(await eventually { !gateway.connections.all.isEmpty })
    let id = try #require(gateway.connections.all.first?.id)
    #expect(try await chat.dispatcher.store.session(try ConnectionID(id))?.userID == "ada")
    try await client.close()
    try await app.asyncShutdown()
    #expect(gateway.connectionCount == 0, "the gateway stopped with the app")
}
