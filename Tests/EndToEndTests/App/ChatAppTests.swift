import APIGatewayAWS
import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import AsyncHTTPClient
import ChatApp
import Fluent
import Foundation
import HTTPTypes
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
        let record = GatewayRecord(apiID: APIID("chatlocal"), stage: stage, region: region)
        await #expect(throws: GatewayRecordError.self) {
            try await configureChat(app, settings: ChatSettings(databasePath: database.path, gateway: record), poster: RecordingPoster())
        }
        try await app.asyncShutdown()
    }

    // The user came from `?name=`: anyone could claim to be anyone.
    @Test func theUserComesFromTheLoginNeverTheQuery() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        try await withChatApp(path: database.path, poster: RecordingPoster()) { app, gateway in
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            let browser = ChatBrowser(app: app)
            #expect(try await fake.connect(query: ["name": "ada"]).connectResponse.status == .unauthorized, "no login, no connection")
            let bob = try await fake.connect(query: ["name": "ada"], headers: try await browser.connectHeaders("bob"))
            #expect(bob.connectResponse.status == .ok)
            #expect(try await gateway.dispatcher.store.session(bob.id)?.userID == "bob", "the login names the user, not ?name=")
            #expect(try await browser.post("/login", form: [("name", "ada"), ("password", "wrong")]).status == .unauthorized)
            #expect(try await browser.post("/login", form: [("name", "nobody"), ("password", "x")]).status == .unauthorized)
            #expect(try await browser.post("/login", form: [("name", "ada")]).status == .badRequest, "a missing field")
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
                    "$default → POST /ws/default (two-way)",
                    "notifications → POST /websockets/notifications/",
                ])
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            let browser = ChatBrowser(app: app)

            // $connect, with the channel from the query string and the user from the login.
            let ada = try await fake.connect(query: ["channel": "lobby"], headers: try await browser.connectHeaders("ada"))
            #expect(ada.connectResponse.status == .ok)
            let session = try await gateway.dispatcher.store.session(ada.id)
            #expect(session?.userID == "ada" && session?.connected == true && session?.webSessionHash != nil)
            #expect(try await gateway.dispatcher.store.channels(of: ada.id, apiID: settings.gateway.apiID).map(\.rawValue) == ["lobby"])

            // The custom route: action `notifications`, handler `subscribe`.
            #expect(try await ada.send(#"{"action":"notifications","handler":"subscribe","topic":"deploys"}"#).status == .ok)
            #expect(poster.texts(to: ada.id).map(json).last == ["subscribed": "deploys"])

            // $default: an unknown action falls back to the echo, answered in the response (two-way).
            let echo = try await ada.send("plain text")
            #expect(echo.status == .ok && json(String(buffer: echo.body)) == ["echo": "plain text"])
            #expect(poster.texts(to: ada.id).count == 1, "no post for it")

            // A message to the channel reaches everyone in it, and nobody else.
            let bob = try await fake.connect(query: ["channel": "lobby"], headers: try await browser.connectHeaders("bob"))
            let admin = try await fake.connect(query: ["channel": "lobby"], headers: try await browser.connectHeaders("admin"))
            let outsider = try await fake.connect(query: ["channel": "random"], headers: try await browser.connectHeaders("bob"))
            poster.reset()
            #expect(try await bob.send(#"{"action":"sendmessage","text":"hi all"}"#).status == .ok)
            #expect(Set(poster.posts.map(\.connectionID)) == [ada.id, bob.id, admin.id])
            #expect(poster.texts(to: admin.id).map(streamed) == [["type": "message", "channel": "lobby", "from": "bob", "text": "hi all"]])
            #expect(poster.texts(to: outsider.id).isEmpty)

            // whoami counts this connection's messages.
            let whoami = jsonAny(String(buffer: try await ada.send(#"{"action":"whoami"}"#).body))
            #expect(
                whoami["requestCount"] as? Int == 3 && whoami["channels"] as? [String] == ["lobby"] && whoami["user"] as? String == "ada")

            // $disconnect marks the session; later messages find no live session.
            #expect(try await ada.disconnect().status == .ok)
            #expect(try await gateway.dispatcher.store.session(ada.id)?.connected == false)
            #expect(try await ada.send("again").status == .gone)
        }
    }

    @Test func theStaffRoomTwoRoomsAtOnceAndPresence() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let poster = RecordingPoster()
        try await withChatApp(path: database.path, poster: poster) { app, gateway in
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            let browser = ChatBrowser(app: app)
            let bobCookie = try await browser.connectHeaders("bob")
            // The rule of `staff`, at connect and by the join handler.
            #expect(try await fake.connect(query: ["channel": "staff"], headers: bobCookie).connectResponse.status == .forbidden)
            let bob = try await fake.connect(query: ["channel": "lobby"], headers: bobCookie)
            #expect(try await bob.send(#"{"action":"join","channel":"staff"}"#).status == .forbidden)
            let admin = try await fake.connect(query: ["channel": "staff"], headers: try await browser.connectHeaders("admin"))
            #expect(admin.connectResponse.status == .ok)
            #expect(try await bob.send(#"{"action":"announce","text":"hello"}"#).status == .forbidden, "announcing is for staff")

            // ada in two rooms at once hears both; a joined event reaches the room.
            let ada = try await fake.connect(query: ["channel": "lobby"], headers: try await browser.connectHeaders("ada"))
            poster.reset()
            let joined = try await ada.send(#"{"action":"join","channel":"games"}"#)
            #expect(joined.status == .ok)
            #expect(jsonAny(String(buffer: joined.body))["type"] as? String == "joined", "the join is answered: \(String(buffer: joined.body))")
            #expect(
                poster.texts(to: ada.id).map(jsonAny).contains { $0["event"] as? String == "joined" && $0["user"] as? String == "ada" },
                "the room hears of the join")
            try await admin.send(#"{"action":"join","channel":"games"}"#)
            poster.reset()
            try await admin.send(#"{"action":"sendmessage","channel":"games","text":"in games"}"#)
            try await bob.send(#"{"action":"sendmessage","channel":"lobby","text":"in lobby"}"#)
            let heard = poster.texts(to: ada.id).map(streamed).map { $0["text"] ?? "" }
            #expect(heard == ["in games", "in lobby"], "ada hears both rooms: \(heard)")
            #expect(poster.texts(to: admin.id).map(streamed).map { $0["text"] ?? "" } == ["in games"], "admin is not in the lobby")
            #expect(try await bob.send(#"{"action":"sendmessage","channel":"games","text":"x"}"#).status == .forbidden, "not a member")

            // Presence: who is in a room, for its members.
            let presence = jsonAny(String(buffer: try await ada.send(#"{"action":"presence","channel":"games"}"#).body))
            #expect(presence["users"] as? [String] == ["ada", "admin"] && presence["connections"] as? Int == 2, "\(presence)")
            #expect(try await bob.send(#"{"action":"presence","channel":"games"}"#).status == .forbidden)

            // A member's disconnect is announced to its rooms, and it leaves them.
            poster.reset()
            try await admin.disconnect()
            #expect(poster.texts(to: ada.id).map(jsonAny).contains { $0["event"] as? String == "left" && $0["user"] as? String == "admin" })
            let count = try await gateway.dispatcher.channels.count(of: ChannelName("games"), apiID: settings.gateway.apiID)
            #expect(count.connections == 1 && count.users == 1)
        }
    }

    @Test func aForeignOriginIsRefusedEverywhere() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        try await withChatApp(path: database.path, poster: RecordingPoster()) { app, _ in
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            let cookie = try await ChatBrowser(app: app).login("ada")
            let evil = ChatBrowser(app: app, origin: "https://evil.example")
            var headers = HTTPFields()
            headers[.cookie] = cookie
            headers[.origin] = "https://evil.example"
            #expect(try await fake.connect(headers: headers).connectResponse.status == .forbidden, "$connect")
            headers[.origin] = "http://127.0.0.1:9999"
            #expect(try await fake.connect(headers: headers).connectResponse.status == .forbidden, "another port is another origin")
            #expect(try await evil.post("/login", form: [("name", "ada"), ("password", ChatDemo.defaultPassword)]).status == .forbidden)
            #expect(try await evil.post("/ws/token", cookie: cookie).status == .forbidden, "the token endpoint")
            #expect(try await evil.post("/logout", cookie: cookie).status == .forbidden)
            headers[.origin] = "http://localhost:8080"
            #expect(try await fake.connect(headers: headers).connectResponse.status == .ok, "the app's own origin")
        }
    }

    @Test func aTokenConnectsAsItsUserAndLogoutClosesTheLogin() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let poster = RecordingPoster()
        try await withChatApp(path: database.path, poster: poster) { app, gateway in
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            let browser = ChatBrowser(app: app)
            let cookie = try await browser.login("ada")
            let issued = try await browser.post("/ws/token", cookie: cookie)
            #expect(issued.status == .ok)
            let token = try #require(jsonAny(String(buffer: issued.body))["token"] as? String)
            let byToken = try await fake.connect(query: ["ws_token": token, "channel": "lobby"])
            #expect(byToken.connectResponse.status == .ok)
            #expect(try await gateway.dispatcher.store.session(byToken.id)?.userID == "ada")
            #expect(try await fake.connect(query: ["ws_token": token]).connectResponse.status == .unauthorized, "used once")
            var headers = HTTPFields()
            headers[.cookie] = cookie
            #expect(try await fake.connect(headers: headers).connectResponse.status == .forbidden, "a cookie login without Origin")
            headers[.origin] = "http://127.0.0.1:8080"
            let byCookie = try await fake.connect(headers: headers)
            #expect(byCookie.isAccepted)
            let other = try await fake.connect(headers: try await browser.connectHeaders("ada"))  // another login of ada's

            let logout = try await browser.post("/logout", cookie: cookie)
            #expect(logout.status == .ok && jsonAny(String(buffer: logout.body))["closedConnections"] as? Int == 2)
            #expect(Set(poster.closed) == [byToken.id, byCookie.id], "the login's connections are closed, not the other login's")
            #expect(try await browser.post("/ws/token", cookie: cookie).status == .unauthorized, "the web session is over")
            _ = other
        }
    }

    // A login (and a token) made before a password change connected after it, recording the new state.
    @Test func aLoginFromBeforeAPasswordChangeCannotConnectAfterIt() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        try await withChatApp(path: database.path, poster: RecordingPoster()) { app, gateway in
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            let browser = ChatBrowser(app: app)
            let headers = try await browser.connectHeaders("ada")
            let cookie = try #require(headers[.cookie])
            let issued = try await browser.post("/ws/token", cookie: cookie)
            let token = try #require(jsonAny(String(buffer: issued.body))["token"] as? String)
            let user = try #require(try await ChatUser.query(on: app.db).filter(\.$name == "ada").first())
            user.passwordHash = try Bcrypt.hash("a new password", cost: 4)
            try await user.save(on: app.db)
            try await Task.sleep(for: gateway.dispatcher.configuration.authStateLifetime + .milliseconds(100))
            #expect(try await fake.connect(headers: headers).connectResponse.status == .unauthorized, "the old login's cookie")
            #expect(try await fake.connect(query: ["ws_token": token]).connectResponse.status == .unauthorized, "the old login's token")
            let fresh = try await browser.post("/login", form: [("name", "ada"), ("password", "a new password")])
            #expect(fresh.status == .ok, "a new login works")
        }
    }

    // Logging in again replaced the web session without closing the old login's connections, which
    // no logout could reach any more.
    @Test func aNewLoginClosesTheOldLoginsConnections() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let poster = RecordingPoster()
        try await withChatApp(path: database.path, poster: poster) { app, _ in
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            let browser = ChatBrowser(app: app)
            let headers = try await browser.connectHeaders("ada")
            let ada = try await fake.connect(headers: headers)
            let again = try await browser.post(
                "/login", form: [("name", "bob"), ("password", ChatDemo.defaultPassword)], cookie: headers[.cookie])
            #expect(again.status == .ok)
            #expect(poster.closed == [ada.id])
        }
    }

    @Test func aDemotionEndsTheConnectionsToo() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let poster = RecordingPoster()
        try await withChatApp(path: database.path, poster: poster) { app, gateway in
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            let admin = try await fake.connect(
                query: ["channel": "staff"], headers: try await ChatBrowser(app: app).connectHeaders("admin"))
            #expect(admin.isAccepted)
            let user = try #require(try await ChatUser.query(on: app.db).filter(\.$name == "admin").first())
            user.isStaff = false
            user.isAdmin = false
            try await user.save(on: app.db)
            try await Task.sleep(for: gateway.dispatcher.configuration.authStateLifetime + .milliseconds(100))
            #expect(try await admin.send(#"{"action":"whoami"}"#).status == .unauthorized, "no longer staff: out of the staff room")
            #expect(poster.closed == [admin.id])
        }
    }

    @Test func aPasswordChangeRefusesTheNextMessageAndClosesTheConnection() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let poster = RecordingPoster()
        try await withChatApp(path: database.path, poster: poster) { app, gateway in
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            let ada = try await fake.connect(headers: try await ChatBrowser(app: app).connectHeaders("ada"))
            #expect(try await ada.send(#"{"action":"whoami"}"#).status == .ok)
            let user = try #require(try await ChatUser.query(on: app.db).filter(\.$name == "ada").first())
            user.passwordHash = try Bcrypt.hash("a new password", cost: 4)
            try await user.save(on: app.db)
            // The login state is trusted for `authStateLifetime` (1 s) before it is asked again.
            try await Task.sleep(for: gateway.dispatcher.configuration.authStateLifetime + .milliseconds(100))
            let refused = try await ada.send(#"{"action":"whoami"}"#)
            #expect(refused.status == .unauthorized)
            #expect(poster.closed == [ada.id], "the connection is deleted through @connections")
        }
    }

    @Test func wrongSecretAndUnknownAPIAreRefused() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        try await withChatApp(path: database.path, poster: RecordingPoster()) { app, _ in
            let noSecret = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: "guess")
            #expect(
                try await noSecret.connect(headers: try await ChatBrowser(app: app).connectHeaders("ada")).connectResponse.status
                    == .forbidden)
            let otherAPI = try FakeAPIGateway(app: app, apiID: APIID("unregistered"), stage: "local", secret: settings.secret)
            #expect(try await otherAPI.connect().connectResponse.status == .badRequest)
        }
    }

    @Test func oversizeBodyOverHTTPIs413() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        try await withChatApp(path: database.path, poster: RecordingPoster()) { app, _ in
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            let connection = try await fake.connect(headers: try await ChatBrowser(app: app).connectHeaders("ada"))
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
            let connection = try await fake.connect(
                query: ["channel": "games"], headers: try await ChatBrowser(app: app).connectHeaders("ada"))
            #expect(connection.isAccepted)
            #expect(try await connection.send(#"{"action":"notifications","handler":"subscribe","topic":"t"}"#).status == .ok)
            #expect(poster.texts(to: connection.id).map(json) == [["subscribed": "t"]])
            #expect(try await connection.disconnect().status == .ok)
            #expect(try await gateway.dispatcher.store.session(connection.id)?.connected == false)
            await app.server.shutdown()
        }
    }

    @Test func sessionsTokensRulesAndRecordsSurviveARestart() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let poster = RecordingPoster()
        let (connection, token, cookie) = try await withChatApp(path: database.path, poster: poster) { app, gateway in
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            let browser = ChatBrowser(app: app)
            let headers = try await browser.connectHeaders("ada")
            let connection = try await fake.connect(query: ["channel": "random"], headers: headers)
            try await connection.send(#"{"action":"whoami"}"#)
            // A token issued and a rule set before the restart.
            let issued = try await browser.post("/ws/token", cookie: headers[.cookie])
            let token = try #require(jsonAny(String(buffer: issued.body))["token"] as? String)
            try await gateway.dispatcher.channels.rules?.saveChannelRule(ChannelRule(channel: ChannelName("vip"), access: .admin))
            return (connection, token, headers[.cookie]!)
        }
        try await withChatApp(path: database.path, poster: poster) { app, gateway in
            let fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
            // The token, the web session, the rule and the gateway record all outlived the process.
            let byToken = try await fake.connect(query: ["ws_token": token])
            let tokenUser = try await gateway.dispatcher.store.session(byToken.id)?.userID
            #expect(byToken.isAccepted && tokenUser == "ada", "the token")
            #expect(try await ChatBrowser(app: app).post("/ws/token", cookie: cookie).status == .ok, "the login's web session")
            #expect(try await gateway.dispatcher.channels.rules?.channelRule(for: ChannelName("vip"))?.access == .admin, "the rule")
            #expect(try await gateway.directory.gateway(settings.gateway.apiID) != nil, "the gateway record")
            let resumed = FakeConnection(id: connection.id, gateway: fake, connectResponse: connection.connectResponse)
            let answer = try await resumed.send(#"{"action":"whoami"}"#)
            #expect(answer.status == .ok)
            let whoami = jsonAny(String(buffer: answer.body))
            #expect(whoami["requestCount"] as? Int == 2 && whoami["channels"] as? [String] == ["random"])
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
            let connection = try await fake.connect(
                query: ["channel": "games"], headers: try await ChatBrowser(app: app).connectHeaders("ada"))
            #expect(try await connection.send(#"{"action":"notifications","handler":"subscribe","topic":"moto"}"#).status == .ok)
            var stop = HTTPClientRequest(url: moto.url + "/moto-api/recorder/stop-recording")
            stop.method = .POST
            _ = try await client.execute(stop, timeout: .seconds(5))
            let recording = try await client.execute(
                HTTPClientRequest(url: moto.url + "/moto-api/recorder/download-recording"), timeout: .seconds(5))
            let lines = String(buffer: try await recording.body.collect(upTo: 1 << 20)).split(separator: "\n")
            let posts = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .filter { ($0["method"] as? String) == "POST" && (($0["url"] as? String) ?? "").contains("/@connections/") }
            // moto may be shared with other tests posting at the same time: find this connection's post.
            let ours = "/@connections/" + connection.id.rawValue.replacingOccurrences(of: "=", with: "%3D")
            let post = try #require(posts.first { ($0["url"] as? String)?.hasSuffix(ours) == true }, "moto recorded no post of ours")
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
