import APIGatewayWebSockets
import APIGatewayWebSocketsClient
import AsyncHTTPClient
import ChatCore
import ChatMessages
import Configuration
import Foundation
import NIOPosix
import Logging
import FluentSQLiteDriver
import FluentKit
import APIGatewayWebSocketsSQL
import HummingbirdChat
import NIOCore
import NIOHTTP1
import PeerSupport
import ServiceLifecycle
import Synchronization
import Testing

@testable import APIGatewayLocal

/// The chat's two examples, Vapor's and Hummingbird's, each running with its embedded local
/// gateway, behind one face, so that one suite checks both from outside: over HTTP and WebSocket,
/// as a user's program would.
enum ChatExample: String, CaseIterable, CustomStringConvertible, Sendable {
    case vapor, hummingbird

    var description: String { rawValue }

    /// A running example.
    struct Running: Sendable {
        /// `http://127.0.0.1:PORT`, where the pages, `/login` and `/ws/token` are.
        let base: String
        /// The WebSocket URL its page is given.
        let webSocket: URL
        /// The local gateway cuts a connection, as API Gateway does at two hours.
        let cut: @Sendable (String) -> Void
        let stop: @Sendable () async throws -> Void
        /// Headers a browser on the app's own page sends with a form.
        let formHeaders: [(String, String)]

        func post(_ path: String, form: String = "", cookie: String? = nil) async throws
            -> (status: Int, cookie: String?, body: String, headers: HTTPHeaders)
        {
            try await postForm(base + path, form: form, cookie: cookie, headers: formHeaders)
        }

        /// Logs in as a demo account and answers its session cookie.
        func login(_ name: String) async throws -> String {
            let response = try await post("/login", form: "name=\(name)&password=\(ChatDemo.defaultPassword)")
            guard response.status == 200, let cookie = response.cookie else { throw LoginFailed(status: response.status) }
            return cookie
        }

        /// A one-time connection token for the login behind `cookie`.
        func token(_ cookie: String) async throws -> String {
            let issued = try await post("/ws/token", cookie: cookie)
            guard issued.status == 200,
                let token = (try? JSONSerialization.jsonObject(with: Data(issued.body.utf8)) as? [String: Any])?["token"] as? String
            else { throw LoginFailed(status: issued.status) }
            return token
        }
    }

    func start() async throws -> Running {
        switch self {
        case .vapor:
            let system = try await ChatEndToEndTests().start(allowedOrigins: ["127.0.0.1"])
            return Running(
                base: system.backend, webSocket: try #require(URL(string: system.url)),
                cut: { system.gateway.close($0, cause: .maximumDuration) }, stop: { try await system.stop() },
                formHeaders: [("Origin", system.backend)])
        case .hummingbird:
            let database = TemporaryDatabase()
            let chat = try await HummingbirdChat.make(settings: HummingbirdChatSettings(databasePath: database.path, port: 0, gatewayPort: 0))
            let (ready, announce) = AsyncStream.makeStream(of: (String, String).self)
            let group = try chat.services { page, webSocket in announce.yield((page, webSocket)) }
            let serving = Task { try await group.run() }
            var addresses = ready.makeAsyncIterator()
            guard let (page, webSocket) = await addresses.next() else { throw LoginFailed(status: 0) }
            return Running(
                base: String(page.dropLast()), webSocket: try #require(URL(string: webSocket)),
                cut: { chat.localGateway.close($0, cause: .maximumDuration) },
                stop: {
                    await group.triggerGracefulShutdown()
                    try await serving.value
                    database.cleanUp()
                }, formHeaders: [])
        }
    }
}

@Suite(.serialized) struct BothExamplesTests {
    /// The chat page in two real browsers (headless Chromium through Selenium), on each example:
    /// both sign in and chat in the lobby, bob is refused the staff room and sees ada present, and after the gateway cuts ada's page it reconnects and shows what was said
    /// meanwhile. Without a browser (outside CI) it runs nothing: `BrowserDriver.start()` says why.
    @Test(arguments: ChatExample.allCases)
    func thePageChatsOnEitherExample(_ example: ChatExample) async throws {
        guard let driver = try await BrowserDriver.start() else { return }
        let chat = try await example.start()
        do {
            for name in ["ada", "bob"] {
                try await driver.open(name)
                try await driver.call(["op": "goto", "name": name, "url": chat.base + "/"])
                try await driver.call(["op": "fill", "name": name, "testid": "login-name", "text": name])
                try await driver.call(["op": "fill", "name": name, "testid": "login-password", "text": ChatDemo.defaultPassword])
                try await driver.call(["op": "click", "name": name, "testid": "login-submit"])
                try await driver.call(["op": "wait_text", "name": name, "testid": "connection-status", "equals": "connected", "timeout": 15])
            }
            try await driver.call(["op": "fill", "name": "bob", "testid": "message-input", "text": "hello from bob"])
            try await driver.call(["op": "click", "name": "bob", "testid": "message-send"])
            try await driver.call(["op": "wait_message", "name": "ada", "testid": "message", "contains": "hello from bob", "timeout": 15])
            try await driver.call(["op": "wait_message", "name": "bob", "testid": "presence", "contains": "ada", "timeout": 15])

            try await driver.call(["op": "fill", "name": "bob", "testid": "room-input", "text": "staff"])
            try await driver.call(["op": "click", "name": "bob", "testid": "room-join"])
            let refusal = try await driver.call([
                "op": "script", "name": "bob",
                "source": """
                    const done = arguments[arguments.length - 1];
                    window.chat.socket.request({ action: "join", channel: "staff" }).then(() => done("joined"), (error) => done(String(error.status)));
                    """,
            ]) as? String
            #expect(refusal == "403", "bob is refused the staff room: \(refusal ?? "nothing")")

            // The gateway cuts ada's page; bob speaks meanwhile; ada's page comes back and shows it.
            let adaID = try #require(
                try await driver.call([
                    "op": "script", "name": "ada",
                    "source": """
                        const done = arguments[arguments.length - 1];
                        window.chat.socket.request({ action: "whoami" }).then((me) => done(me.connectionId), (error) => done(""));
                        """,
                ]) as? String)
            chat.cut(adaID)
            try await driver.call(["op": "fill", "name": "bob", "testid": "message-input", "text": "said while ada was away"])
            try await driver.call(["op": "click", "name": "bob", "testid": "message-send"])
            try await driver.call(["op": "wait_message", "name": "ada", "testid": "message", "contains": "said while ada was away", "timeout": 30])
            let texts = try await driver.call(["op": "texts", "name": "ada", "testid": "message"]) as? [String] ?? []
            #expect(texts.filter { $0.contains("said while ada was away") }.count == 1, "once: \(texts)")
            await driver.stop()
            try await chat.stop()
        } catch {
            await driver.stop()
            try? await chat.stop()
            throw error
        }
    }

    /// A login form that is not URL-encoded is a 400 with a reason, and the example goes on
    /// serving (the Hummingbird example's parser used to trap on a bare `%`); a login made again
    /// from the same browser ends the old session, whose cookie no longer gets a token.
    @Test(arguments: ChatExample.allCases)
    func aBadFormIsRefusedAndALoginAgainEndsTheOldOne(_ example: ChatExample) async throws {
        let chat = try await example.start()
        do {
            for form in ["name=a%&password=x", "name=%zz&password=x", "password=a%2"] {
                let refused = try await chat.post("/login", form: form)
                #expect(refused.status == 400, "\(example) \(form): \(refused)")
            }
            let first = try await chat.login("ada")
            let again = try await chat.post("/login", form: "name=ada&password=\(ChatDemo.defaultPassword)", cookie: first)
            let second = try #require(again.cookie, "a new session: \(again)")
            #expect(second != first)
            #expect(try await chat.post("/ws/token", cookie: second).status == 200)
            #expect(try await chat.post("/ws/token", cookie: first).status == 401, "the old session is gone")
            try await chat.stop()
        } catch {
            try? await chat.stop()
            throw error
        }
    }

    /// Logins as an attacker meets them, on each example: the session cookie is for HTTP alone
    /// and same-site; ten wrong passwords throttle the name (the right one then gets 429 with
    /// `Retry-After`, another name still logs in); and a token fetched before logout opens
    /// nothing after it.
    @Test(arguments: ChatExample.allCases)
    func loginsHoldAgainstGuessesAndLogouts(_ example: ChatExample) async throws {
        let chat = try await example.start()
        do {
            let login = try await chat.post("/login", form: "name=bob&password=\(ChatDemo.defaultPassword)")
            let cookie = try #require(login.headers.first(name: "Set-Cookie"), "\(example): \(login)")
            #expect(cookie.contains("HttpOnly") && cookie.lowercased().contains("samesite=lax"), "\(example): \(cookie)")
            for _ in 0..<10 { #expect(try await chat.post("/login", form: "name=ada&password=guess").status == 401) }
            let right = try await chat.post("/login", form: "name=ada&password=\(ChatDemo.defaultPassword)")
            #expect(right.status == 429 && right.headers.first(name: "Retry-After") != nil, "\(example): \(right.status) \(right.headers)")
            let bob = try #require(login.cookie)
            let token = try await chat.token(bob)
            #expect(try await chat.post("/logout", cookie: bob).status == 200)
            var url = URLComponents(url: chat.webSocket, resolvingAgainstBaseURL: false)!
            url.queryItems = [URLQueryItem(name: "ws_token", value: token)]
            await #expect(throws: (any Error).self, "\(example): the token died with its login") {
                let client = try await TestClient.connect(url.string!, timeout: .seconds(10))
                try? await client.close()
            }
            try await chat.stop()
        } catch {
            try? await chat.stop()
            throw error
        }
    }

    /// The issue's Swift program, against each example: the Swift client on the chat's own message
    /// types (ChatMessages, which both servers' handlers decode) logs in with one-time tokens,
    /// joins a room, gets typed answers and a typed refusal, and after the gateway cuts it resumes
    /// without loss or duplicates; logging out closes the login's connections.
    @Test(arguments: ChatExample.allCases)
    func aSwiftClientSpeaksTheChatsOwnTypes(_ example: ChatExample) async throws {
        let chat = try await example.start()
        func client(_ name: String) async throws -> (GatewayClient, String) {
            let cookie = try await chat.login(name)
            let client = GatewayClient(
                url: chat.webSocket,
                configuration: .init(
                    token: { try await chat.token(cookie) }, channels: ["lobby"], requestTimeout: .seconds(30), heartbeatAction: nil,
                    initialBackoff: .milliseconds(20), maximumBackoff: .milliseconds(200), maximumFailedConnects: 10,
                    handshakeTimeout: .seconds(5)))
            return (client, cookie)
        }
        let (ada, adaCookie) = try await client("ada"), (bob, _) = try await client("bob")
        try await ada.connect()
        try await bob.connect()
        let me = try await ada.request(WhoAmI())
        #expect(me.user == "ada" && me.channels == ["lobby"], "\(me)")
        let refusal = await #expect(throws: GatewayRefusal.self) { try await bob.join("staff") }
        #expect(refusal?.status == 403, "bob may not join staff: \(String(describing: refusal))")
        let stray = await #expect(throws: GatewayRefusal.self) { try await bob.request(SendMessage(text: "x", channel: "random")) }
        #expect(stray?.status == 403, "nor send to a room he is not in")

        let heard = Mutex<[String]>([])
        let listening = Task {
            for await message in ada.messages where message.channel == "lobby" {
                if let line = try? message.decode(ChatLine.self), line.from == "bob" { heard.withLock { $0.append(line.text) } }
            }
        }
        for text in ["one", "two"] {
            #expect(try await bob.request(SendMessage(text: text, channel: "lobby")) == Sent(rooms: ["lobby"], delivered: 2))
        }
        #expect(await eventually(timeout: .seconds(20)) { heard.withLock { $0.count } >= 2 })

        chat.cut(me.connectionId)
        for text in ["three", "four"] { _ = try await bob.request(SendMessage(text: text, channel: "lobby")) }
        #expect(await eventually(timeout: .seconds(20)) { heard.withLock { $0.count } >= 4 })
        try await Task.sleep(for: .milliseconds(100))  // a duplicate would come right behind
        #expect(heard.withLock { $0 } == ["one", "two", "three", "four"], "nothing lost, nothing twice")
        let after = try await ada.request(WhoAmI())
        #expect(after.user == "ada" && after.connectionId != me.connectionId && after.channels == ["lobby"], "\(after)")

        let logout = try await chat.post("/logout", cookie: adaCookie)
        #expect(logout.status == 200 && logout.body.contains(#""closedConnections":1"#), "\(logout)")
        await ada.close()
        await bob.close()
        await listening.value
        try await chat.stop()
    }

    /// The Hummingbird example keeps its local gateway's APIs beside its database: started again
    /// on other ports, it serves the same API (the same id, so pages resume), and messages reach
    /// clients through the gateway's new address (the record's endpoint once stayed at the old
    /// port, and every post went there).
    @Test func theHummingbirdExampleRestartsOnTheSameAPIAtANewAddress() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        func run(gatewayPort: Int = 0) async throws
            -> (webSocket: String, stop: @Sendable () async throws -> Void, chat: HummingbirdChat, base: String)
        {
            let chat = try await HummingbirdChat.make(
                settings: HummingbirdChatSettings(databasePath: database.path, port: 0, gatewayPort: gatewayPort))
            let (ready, announce) = AsyncStream.makeStream(of: (String, String).self)
            let group = try chat.services { page, webSocket in announce.yield((page, webSocket)) }
            let serving = Task { try await group.run() }
            // A failed provisioning is only logged: give up after a while rather than wait forever.
            let timeout = Task { try await Task.sleep(for: .seconds(30)); announce.finish() }
            var addresses = ready.makeAsyncIterator()
            let announced = await addresses.next()
            timeout.cancel()
            guard let (page, webSocket) = announced else {
                await group.triggerGracefulShutdown()
                _ = try? await serving.value
                throw LoginFailed(status: 0)
            }
            return (webSocket, { await group.triggerGracefulShutdown(); try await serving.value }, chat, String(page.dropLast()))
        }
        let first = try await run()
        let firstPort = try #require(first.chat.localGateway.port)
        try await first.stop()
        #expect(FileManager.default.fileExists(atPath: database.path + ".local-gateway.json"))
        // An apply that died holding its claim (a crash, a signal) must not hold the next start.
        let databases = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)
        databases.use(.sqlite(.file(database.path)), as: .sqlite)
        try await GatewayModel.query(on: databases.gatewayDatabase(logger: Logger(label: "test"))).filter(\.$name == "chat")
            .set(\.$claimToken, to: "an-apply-that-died").set(\.$claimedAt, to: Int64(Date().timeIntervalSince1970)).update()
        await databases.shutdownAsync()
        // Another port for certain: one the system hands out after the first run's.
        var newPort = try ScaleOutTests.Nginx.freePort()
        for _ in 0..<5 where newPort == firstPort { newPort = try ScaleOutTests.Nginx.freePort() }
        let second = try await run(gatewayPort: newPort)
        do {
            let port = try #require(second.chat.localGateway.port)
            let first = URL(string: first.webSocket)!, again = try #require(URL(string: second.webSocket))
            #expect(again.path == first.path, "the same API and stage: \(again)")
            try #require(port != firstPort && again.port == port, "at the gateway's new address: \(again)")
            let running = ChatExample.Running(
                base: second.base, webSocket: again, cut: { _ in }, stop: {}, formHeaders: [])
            let cookie = try await running.login("ada")
            let client = GatewayClient(
                url: again,
                configuration: .init(
                    token: { try await running.token(cookie) }, channels: ["lobby"], requestTimeout: .seconds(10), heartbeatAction: nil,
                    maximumFailedConnects: 3, handshakeTimeout: .seconds(5)))
            try await client.connect()
            let sent = try await client.request(SendMessage(text: "still here", channel: "lobby"))
            #expect(sent == Sent(rooms: ["lobby"], delivered: 1), "the message reached its sender through the gateway: \(sent)")
            await client.close()
            try await second.stop()
        } catch {
            try? await second.stop()
            throw error
        }
    }

    /// The Hummingbird example's settings come through swift-configuration's `ConfigReader`:
    /// every key from its environment variable (the README's names), Hummingbird's own `http`
    /// keys read by Hummingbird, and a value that is not what it must be refused with its name.
    @Test func theHummingbirdExampleReadsItsSettingsThroughAConfigReader() throws {
        func settings(_ environment: [String: String]) throws -> HummingbirdChatSettings {
            try HummingbirdChatSettings(config: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment)))
        }
        let set = try settings([
            "CHAT_DATABASE": "/srv/chat.sqlite", "HTTP_HOST": "0.0.0.0", "HTTP_PORT": "9090", "HTTP_SERVER_NAME": "chat-1",
            "CHAT_GATEWAY_PORT": "9091", "CHAT_ROOMS": "lobby, ops", "CHAT_ORIGINS": "https://chat.example.com, http://localhost:3000",
            "WS_GATEWAY_SECRET": "a-secret-of-the-app", "CHAT_DEMO_PASSWORD": "pw", "CHAT_LOCAL_GATEWAY_STATE": "",
        ])
        #expect(set.databasePath == "/srv/chat.sqlite" && set.databaseURL == nil)
        #expect(set.hostname == "0.0.0.0" && set.port == 9090 && set.server.serverName == "chat-1")
        #expect(set.gatewayPort == 9091 && set.localGatewayStateFile == nil, "empty: no state file")
        #expect(set.rooms == ["lobby", "ops"])
        #expect(set.allowedOrigins == ["https://chat.example.com", "http://localhost:3000"])
        #expect(set.secret == "a-secret-of-the-app" && set.demoPassword == "pw")

        let defaults = try settings([:])
        #expect(defaults.databasePath == "hummingbird-chat.sqlite" && defaults.hostname == "127.0.0.1" && defaults.port == 8080)
        #expect(defaults.gatewayPort == 8081 && defaults.localGatewayStateFile == "hummingbird-chat.sqlite.local-gateway.json")
        #expect(defaults.allowedOrigins == ["http://127.0.0.1:8080", "http://localhost:8080"])
        #expect(defaults.server.serverName == "hummingbird-chat")
        let postgres = try settings(["DATABASE_URL": "postgres://chat@127.0.0.1:5432/chat"])
        #expect(postgres.databaseURL == "postgres://chat@127.0.0.1:5432/chat")
        #expect(postgres.localGatewayStateFile == "hummingbird-chat-local-gateway.json")

        for (name, value, reason) in [
            ("CHAT_GATEWAY_PORT", "abc", "CHAT_GATEWAY_PORT (chat.gateway.port) must be a port number"),
            ("HTTP_PORT", "70000", "HTTP_PORT (http.port) must be a port number"), ("CHAT_ROOMS", "lobby,bad room!", "CHAT_ROOMS"),
        ] {
            let error = #expect(throws: HummingbirdChatError.self) { try settings([name: value]) }
            #expect(error?.description.hasPrefix(reason) == true, "\(String(describing: error))")
        }
    }
}
