import APIGatewayAWS
import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import AsyncHTTPClient
import ChatApp
import Foundation
import NIOCore
import PeerSupport
import Testing
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

/// The example app answering API Gateway-shaped requests, the guide's steps end to end.
@Suite struct ChatAppTests {
    let settings = ChatSettings()

    // `CHAT_STAGE='a#b'` started the app, which then trapped at its first reply.
    @Test(arguments: [("a#b", "us-east-1"), ("local", "u@h:1"), ("", "us-east-1"), ("local", "")])
    func aGatewayAPIGatewayCouldNotHaveStopsTheStart(stage: String, region: String) async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let app = try await Application.make(.testing)
        let record = GatewayRecord(apiID: try APIID("chatlocal"), stage: stage, region: region)
        await #expect(throws: GatewayRecordError.self) {
            try await configureChat(app, settings: ChatSettings(databasePath: database.path, gateway: record), poster: RecordingPoster())
        }
        try await app.asyncShutdown()
    }

    // `?name=` had no limit: a 100 KB name became the user id stored and sent with every message.
    @Test func aNameIsAtMostSixtyFourCharacters() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        try await withChatApp(path: database.path, poster: RecordingPoster()) { app, gateway in
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            let long = try await fake.connect(query: ["name": String(repeating: "é", count: 65)])
            #expect(long.connectResponse.status == .badRequest)
            let longest = try await fake.connect(query: ["name": String(repeating: "é", count: 64)])
            #expect(try await gateway.dispatcher.store.session(longest.id)?.userID?.count == 64)
            let empty = try await fake.connect(query: ["name": ""])
            #expect(try await gateway.dispatcher.store.session(empty.id)?.userID == nil)
        }
    }

    @Test func connectCustomRouteDefaultAndDisconnect() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let poster = RecordingPoster()
        try await withChatApp(path: database.path, poster: poster) { app, gateway in
            #expect(
                gateway.registeredRoutes.map(\.description) == [
                    "$connect → POST /ws/connect",
                    "$disconnect → POST /ws/disconnect",
                    "$default → POST /ws/default",
                    "notifications → POST /websockets/notifications/",
                ])
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)

            // $connect, with the channel from the query string and the user from ?name=.
            let ada = try await fake.connect(query: ["channel": "lobby", "name": "ada"])
            #expect(ada.connectResponse.status == .ok)
            let session = try await gateway.dispatcher.store.session(ada.id)
            #expect(session?.channel?.rawValue == "lobby" && session?.userID == "ada" && session?.connected == true)

            // The custom route: action `notifications`, handler `subscribe`.
            #expect(try await ada.send(#"{"action":"notifications","handler":"subscribe","topic":"deploys"}"#).status == .ok)
            #expect(poster.texts(to: ada.id).map(json).last == ["subscribed": "deploys"])

            // $default: an unknown action falls back to the echo.
            #expect(try await ada.send("plain text").status == .ok)
            #expect(poster.texts(to: ada.id).map(json).last == ["echo": "plain text"])

            // A message to the channel reaches everyone in it, and nobody else.
            let bob = try await fake.connect(query: ["channel": "lobby", "name": "bob"])
            let cy = try await fake.connect(query: ["channel": "lobby"])
            let outsider = try await fake.connect(query: ["channel": "elsewhere"])
            poster.reset()
            #expect(try await bob.send(#"{"action":"sendmessage","text":"hi all"}"#).status == .ok)
            #expect(Set(poster.posts.map(\.connectionID)) == [ada.id, bob.id, cy.id])
            #expect(poster.texts(to: cy.id).map(json) == [["from": "bob", "text": "hi all"]])
            #expect(poster.texts(to: outsider.id).isEmpty)

            // whoami counts this connection's messages.
            try await ada.send(#"{"action":"whoami"}"#)
            let whoami = jsonAny(poster.texts(to: ada.id).last ?? "")
            #expect(whoami["requestCount"] as? Int == 3 && whoami["channel"] as? String == "lobby")

            // $disconnect marks the session; later messages find no live session.
            #expect(try await ada.disconnect().status == .ok)
            #expect(try await gateway.dispatcher.store.session(ada.id)?.connected == false)
            #expect(try await ada.send("again").status == .gone)
        }
    }

    @Test func wrongSecretAndUnknownAPIAreRefused() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        try await withChatApp(path: database.path, poster: RecordingPoster()) { app, _ in
            let noSecret = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: "guess")
            #expect(try await noSecret.connect().connectResponse.status == .forbidden)
            let otherAPI = try FakeAPIGateway(app: app, apiID: try APIID("unregistered"), stage: "local", secret: settings.secret)
            #expect(try await otherAPI.connect().connectResponse.status == .badRequest)
        }
    }

    @Test func oversizeBodyOverHTTPIs413() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        try await withChatApp(path: database.path, poster: RecordingPoster()) { app, _ in
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            let connection = try await fake.connect()
            for size in [131_073, 600_000] {
                let response = try await connection.send(ByteBuffer(repeating: UInt8(ascii: "x"), count: size))
                #expect(response.status == .contentTooLarge, "\(size) bytes")
            }
        }
    }

    @Test func liveServerOnPortZero() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let poster = RecordingPoster()
        try await withChatApp(path: database.path, poster: poster) { app, gateway in
            app.http.server.configuration.hostname = "127.0.0.1"
            app.http.server.configuration.port = 0
            try await app.server.start(address: nil)
            let port = try #require(app.http.server.shared.localAddress?.port)
            var fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            fake.transport = LiveTransport(baseURL: "http://127.0.0.1:\(port)")
            let connection = try await fake.connect(query: ["channel": "live"])
            #expect(connection.isAccepted)
            #expect(try await connection.send(#"{"action":"notifications","handler":"subscribe","topic":"t"}"#).status == .ok)
            #expect(poster.texts(to: connection.id).map(json) == [["subscribed": "t"]])
            #expect(try await connection.disconnect().status == .ok)
            #expect(try await gateway.dispatcher.store.session(connection.id)?.connected == false)
            await app.server.shutdown()
        }
    }

    @Test func sessionsSurviveARestart() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let poster = RecordingPoster()
        let connection = try await withChatApp(path: database.path, poster: poster) { app, _ in
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            let connection = try await fake.connect(query: ["channel": "durable"])
            try await connection.send(#"{"action":"whoami"}"#)
            return connection
        }
        try await withChatApp(path: database.path, poster: poster) { app, gateway in
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            let resumed = FakeConnection(id: connection.id, gateway: fake, connectResponse: connection.connectResponse)
            #expect(try await resumed.send(#"{"action":"whoami"}"#).status == .ok)
            let whoami = jsonAny(poster.texts(to: connection.id).last ?? "")
            #expect(whoami["requestCount"] as? Int == 2 && whoami["channel"] as? String == "durable")
            try await resumed.disconnect()
            #expect(try await gateway.dispatcher.store.session(connection.id)?.connected == false)
        }
    }
}

/// The example's default poster is the real `ManagementClient`: a reply reaches moto's
/// `@connections`, signed, and moto records it.
@Suite struct ChatAppManagementTests {
    @Test func replyIsPostedToMotoThroughTheManagementClient() async throws {
        guard let moto = try await MotoServer.start() else { return }
        defer { moto.stop() }
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        var settings = ChatSettings(databasePath: database.path)
        settings.gateway.managementEndpoint = try ManagementEndpoint(url: moto.url)  // moto serves @connections at its root
        let app = try await Application.make(.testing)
        do {
            try await configureChat(app, settings: settings)  // no poster given: the ManagementClient
            let client = HTTPClient.shared
            var start = HTTPClientRequest(url: moto.url + "/moto-api/recorder/start-recording")
            start.method = .POST
            _ = try await client.execute(start, timeout: .seconds(5))
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            let connection = try await fake.connect(query: ["channel": "moto"])
            #expect(try await connection.send(#"{"action":"notifications","handler":"subscribe","topic":"moto"}"#).status == .ok)
            var stop = HTTPClientRequest(url: moto.url + "/moto-api/recorder/stop-recording")
            stop.method = .POST
            _ = try await client.execute(stop, timeout: .seconds(5))
            let recording = try await client.execute(
                HTTPClientRequest(url: moto.url + "/moto-api/recorder/download-recording"), timeout: .seconds(5))
            let lines = String(buffer: try await recording.body.collect(upTo: 1 << 20)).split(separator: "\n")
            let posts = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .filter { ($0["method"] as? String) == "POST" && (($0["url"] as? String) ?? "").contains("/@connections/") }
            let post = try #require(posts.first, "moto recorded no post")
            #expect(
                (post["url"] as? String)?.hasSuffix("/@connections/" + connection.id.rawValue.replacingOccurrences(of: "=", with: "%3D"))
                    == true)
            let raw = post["body"] as? String ?? ""
            let body = post["body_encoded"] as? Bool == true ? String(decoding: Data(base64Encoded: raw) ?? Data(), as: UTF8.self) : raw
            #expect(body == #"{"subscribed":"moto"}"#)
            let headers = post["headers"] as? [String: String] ?? [:]
            #expect(headers.first { $0.key.lowercased() == "authorization" }?.value.contains("/execute-api/aws4_request") == true)
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}
