import APIGatewayAWS
import APIGatewayLocal
import APIGatewayWebSockets
import ChatApp
import Foundation
import PeerSupport
import Testing
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

/// The chat page and the admin in real browsers (headless Chromium through Selenium), in front
/// of the chat example and the local gateway, all on loopback. Screenshots go to the folder the
/// tests print.
@Suite(.serialized) struct ChatBrowserTests {
    static let screenshots: URL = {
        let folder = PythonPeer.repositoryRoot.appendingPathComponent(".build/screenshots")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }()

    /// The chat example behind a local gateway, its API applied through the planner.
    final class System: Sendable {
        let local: LocalGateway
        let database: String
        let settings: ChatSettings
        let app: Application
        let chat: WebSocketGateway
        let backend: String

        init(local: LocalGateway, database: String, settings: ChatSettings, app: Application, chat: WebSocketGateway, backend: String) {
            self.local = local
            self.database = database
            self.settings = settings
            self.app = app
            self.chat = chat
            self.backend = backend
        }

        /// A backend on `port` (0: any) for `database`, with `extra` controllers; provisioned
        /// afresh when `provision`, else left for an apply.
        static func start(
            local: LocalGateway, database: String, port: Int = 0, extra: [any WebSocketController] = [], provision: Bool = true
        ) async throws -> System {
            // The page is served from 127.0.0.1 on whatever port the backend got.
            let settings = ChatSettings(databasePath: database, allowedOrigins: ["127.0.0.1"])
            let app = try await Application.make(.testing)
            let chat = try await configureChat(app, settings: settings, registerAPI: false)
            for controller in extra { try chat.register(controller) }
            app.http.server.configuration.hostname = "127.0.0.1"
            app.http.server.configuration.port = port
            try await app.server.start(address: nil)
            let backend = "http://127.0.0.1:\(app.http.server.shared.localAddress!.port!)"
            if provision {
                try await ChatProvisioning.provisionLocalGateway(
                    app, gateway: chat, settings: settings, backend: backend, controlPlane: "http://127.0.0.1:\(local.port!)")
            }
            return System(local: local, database: database, settings: settings, app: app, chat: chat, backend: backend)
        }

        func stopBackend() async throws {
            await app.server.shutdown()
            try await app.asyncShutdown()
        }
    }

    static func newDatabase() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("browser-\(UUID().uuidString).sqlite").path
    }

    func login(_ driver: BrowserDriver, _ name: String, on system: System) async throws {
        try await driver.call(["op": "goto", "name": name, "url": system.backend + "/"])
        try await driver.call(["op": "fill", "name": name, "testid": "login-name", "text": name])
        try await driver.call(["op": "fill", "name": name, "testid": "login-password", "text": ChatDemo.defaultPassword])
        try await driver.call(["op": "click", "name": name, "testid": "login-submit"])
        try await driver.call(["op": "wait_text", "name": name, "testid": "connection-status", "equals": "connected", "timeout": 15])
    }

    func send(_ driver: BrowserDriver, _ name: String, _ text: String) async throws {
        try await driver.call(["op": "fill", "name": name, "testid": "message-input", "text": text])
        try await driver.call(["op": "click", "name": name, "testid": "message-send"])
    }

    func messages(_ driver: BrowserDriver, _ name: String) async throws -> [String] {
        try await driver.call(["op": "texts", "name": name, "testid": "message"]) as? [String] ?? []
    }

    func screenshot(_ driver: BrowserDriver, _ name: String, _ file: String) async throws {
        try await driver.call(["op": "screenshot", "name": name, "path": Self.screenshots.appendingPathComponent(file).path])
    }

    /// The page's client waits 4 to 8 s before it reconnects, so what is sent meanwhile is missed.
    func reconnectSlowly(_ driver: BrowserDriver, _ name: String) async throws {
        _ = try await driver.call([
            "op": "script", "name": name,
            "source": """
                const done = arguments[arguments.length - 1];
                Object.assign(window.chat.socket.options, { backoffInitialMs: 8000, backoffMaxMs: 8000 });
                done("ok");
                """,
        ])
    }

    /// The gateway drops `user`'s connections, as API Gateway does when `@connections` deletes them.
    func dropConnections(of user: String, on system: System) async throws {
        let record = try #require(try await system.chat.directory.records().values.first)
        for session in try await system.chat.dispatcher.store.sessions(SessionFilter(userID: user, connected: true), after: nil, limit: 10) {
            _ = try await system.chat.dispatcher.messenger.poster.close(session.connectionID, on: record)
        }
    }

    /// `name`'s page sends "`prefix` 1" … "`prefix` `count`" to the lobby, each answered before the next.
    func sendNumbered(_ driver: BrowserDriver, _ name: String, _ count: Int, _ prefix: String) async throws {
        let sent = try await driver.call([
            "op": "script", "name": name,
            "source": """
                const done = arguments[arguments.length - 1];
                (async () => {
                  for (let index = 1; index <= \(count); index++) {
                    await window.chat.socket.request({ action: "sendmessage", channel: "lobby", text: `\(prefix) ${index}` });
                  }
                })().then(() => done("sent"), (error) => done("error: " + error.reason));
                """,
        ]) as? String
        #expect(sent == "sent")
    }

    /// The numbers of the "`prefix` N" messages `name`'s page shows, in page order.
    func numbered(_ driver: BrowserDriver, _ name: String, _ prefix: String) async throws -> [Int] {
        try await messages(driver, name).compactMap { text in
            text.range(of: prefix + " ").flatMap { Int(text[$0.upperBound...].prefix { $0.isNumber }) }
        }
    }

    /// The page's own client, asked from the page: the answer, or `error: reason`.
    func request(_ driver: BrowserDriver, _ name: String, _ message: String) async throws -> String {
        let source = """
            const done = arguments[arguments.length - 1];
            window.chat.socket.request(\(message)).then((answer) => done(JSON.stringify(answer)), (error) => done("error: " + error.reason));
            """
        return try await driver.call(["op": "script", "name": name, "source": source]) as? String ?? ""
    }

    /// Starts a browser, the local gateway (configured as `gateway`) and the chat on a fresh
    /// database, runs `body`, and stops them whether it threw or not. Without a browser (outside
    /// CI) it runs nothing: `BrowserDriver.start()` has said why.
    func withChat(
        gateway: LocalGatewayConfiguration = LocalGatewayConfiguration(port: 0), _ body: (BrowserDriver, System) async throws -> Void
    ) async throws {
        guard let driver = try await BrowserDriver.start() else { return }
        let local = LocalGateway(configuration: gateway)
        try await local.start()
        let database = Self.newDatabase()
        let system = try await System.start(local: local, database: database)
        do {
            try await body(driver, system)
            await driver.stop()
            try await system.stopBackend()
            try await local.stop()
        } catch {
            await driver.stop()
            try? await system.stopBackend()
            try? await local.stop()
            throw error
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
    }

    @Test func twoBrowsersChatAThirdInAnotherRoomSeesNothingAndTheAdminReachesBoth() async throws {
        try await withChat { driver, system in
            for name in ["ada", "bob", "admin"] {
                try await driver.open(name)
                try await login(driver, name, on: system)
            }
            print("screenshots: \(Self.screenshots.path)")
            // admin moves to another room: joins games, leaves the lobby.
            try await driver.call(["op": "fill", "name": "admin", "testid": "room-input", "text": "games"])
            try await driver.call(["op": "click", "name": "admin", "testid": "room-join"])
            let left = try await request(driver, "admin", #"{"action":"leave","channel":"lobby"}"#)
            #expect(left.contains(#""wasMember":true"#), "\(left)")

            try await send(driver, "ada", "hello from ada")
            try await driver.call(["op": "wait_message", "name": "bob", "contains": "hello from ada", "timeout": 10])
            try await send(driver, "bob", "and hello from bob")
            try await driver.call(["op": "wait_message", "name": "ada", "contains": "and hello from bob", "timeout": 10])
            try await driver.call(["op": "sleep", "name": "admin", "seconds": 1])
            #expect(try await messages(driver, "admin").allSatisfy { !$0.contains("hello from") }, "another room hears nothing")
            let presence = try await driver.call(["op": "text", "name": "bob", "testid": "presence"]) as? String ?? ""
            #expect(presence.contains("ada") && presence.contains("bob") && !presence.contains("admin"), "\(presence)")
            try await screenshot(driver, "ada", "chat-ada.png")
            try await screenshot(driver, "bob", "chat-bob.png")

            // The admin's send to everyone reaches both pages, and the report says so.
            try await driver.call(["op": "goto", "name": "admin", "url": system.backend + "/admin/websockets/send"])
            try await driver.call(["op": "select", "name": "admin", "testid": "send-audience", "value": "everyone"])
            try await driver.call([
                "op": "fill", "name": "admin", "testid": "send-body", "text": #"{"type":"message","from":"admin","text":"to everyone"}"#,
            ])
            try await driver.call(["op": "click", "name": "admin", "testid": "send-submit"])
            let report = try await driver.call(["op": "text", "name": "admin", "testid": "send-report"]) as? String ?? ""
            try await screenshot(driver, "admin", "admin-send-report.png")
            for name in ["ada", "bob"] {
                try await driver.call(["op": "wait_message", "name": name, "contains": "to everyone", "timeout": 10])
            }
            #expect(report.contains("Delivery report"), "\(report)")
            // Plain text from the admin: the report said 3 sent and no page showed anything (the
            // page dropped every frame that was not its own JSON). Now it is a notice.
            try await driver.call(["op": "goto", "name": "admin", "url": system.backend + "/admin/websockets/send"])
            try await driver.call(["op": "select", "name": "admin", "testid": "send-audience", "value": "everyone"])
            try await driver.call(["op": "fill", "name": "admin", "testid": "send-body", "text": "plain words for everyone"])
            try await driver.call(["op": "click", "name": "admin", "testid": "send-submit"])
            for name in ["ada", "bob"] {
                try await driver.call([
                    "op": "wait_message", "name": name, "testid": "notice", "contains": "plain words for everyone", "timeout": 10,
                ])
            }
            for (page, file) in [
                ("", "admin-gateways.png"), ("/gateways/chat", "admin-gateway.png"), ("/sessions", "admin-sessions.png"),
                ("/identity", "admin-identity.png"), ("/gateways/chat/edit", "admin-gateway-edit.png"),
            ] {
                try await driver.call(["op": "goto", "name": "admin", "url": system.backend + "/admin/websockets" + page])
                try await screenshot(driver, "admin", file)
            }
        }
    }

    @Test func thePageReconnectsAfterTheGatewayCutsItAndGetsMessagesAgain() async throws {
        var configuration = LocalGatewayConfiguration(port: 0)
        configuration.maximumConnectionDuration = .seconds(6)  // API Gateway's 2 hours, shortened
        configuration.sweepInterval = .milliseconds(250)
        try await withChat(gateway: configuration) { driver, system in
            for name in ["ada", "bob"] {
                try await driver.open(name)
                try await login(driver, name, on: system)
            }
            let store = system.chat.dispatcher.store
            let cut = await eventually(timeout: .seconds(20)) {
                (try? await store.sessions(SessionFilter(userID: "ada"), after: nil, limit: 10).count) ?? 0 >= 2
            }
            #expect(cut, "the gateway cut ada's first connection and the page opened another")
            try await driver.call(["op": "wait_text", "name": "ada", "testid": "connection-status", "equals": "connected", "timeout": 15])
            try await driver.call(["op": "wait_text", "name": "bob", "testid": "connection-status", "equals": "connected", "timeout": 15])
            try await send(driver, "ada", "after the cut")
            try await driver.call(["op": "wait_message", "name": "bob", "contains": "after the cut", "timeout": 10])
            try await screenshot(driver, "bob", "chat-after-reconnect.png")
        }
    }

    /// The issue's page test: two browsers in a room; the gateway drops one while the other sends
    /// 20 messages; once reconnected, the page shows all 20, once each, in order. A page opened
    /// afterwards shows the room's recent messages.
    @Test func aPageThatLostItsConnectionShowsEveryMissedMessageOnceInOrder() async throws {
        try await withChat { driver, system in
            for name in ["ada", "bob"] {
                try await driver.open(name)
                try await login(driver, name, on: system)
            }
            try await send(driver, "bob", "before the cut")
            try await driver.call(["op": "wait_message", "name": "ada", "contains": "before the cut", "timeout": 10])
            // ada's page waits 4 to 8 s before it reconnects, so the 20 go out while she is away; the
            // gateway drops her connection, as API Gateway does when @connections deletes it.
            try await reconnectSlowly(driver, "ada")
            try await dropConnections(of: "ada", on: system)
            // The status line counts down ("reconnecting in 6 s"): the client's own status is asked.
            let away = try await driver.call([
                "op": "script", "name": "ada",
                "source": """
                    const done = arguments[arguments.length - 1];
                    const started = Date.now();
                    (function poll() {
                      if (window.chat.socket.status === "reconnecting") return done("reconnecting");
                      if (Date.now() - started > 10000) return done(window.chat.socket.status);
                      setTimeout(poll, 50);
                    })();
                    """,
            ]) as? String
            #expect(away == "reconnecting")
            try await sendNumbered(driver, "bob", 20, "missed")
            let status = try await driver.call(["op": "text", "name": "ada", "testid": "connection-status"]) as? String ?? ""
            #expect(status.hasPrefix("reconnecting"), "still away while the 20 went out: \(status)")
            try await driver.call(["op": "wait_text", "name": "ada", "testid": "connection-status", "equals": "connected", "timeout": 20])
            try await driver.call(["op": "wait_message", "name": "ada", "contains": "missed 20", "timeout": 10])
            // A moment for anything that would come twice.
            try await driver.call(["op": "sleep", "name": "ada", "seconds": 1])
            func missed(_ name: String) async throws -> [Int] { try await numbered(driver, name, "missed") }
            #expect(try await missed("ada") == Array(1...20), "every missed message once, in order")
            let notices = try await driver.call(["op": "texts", "name": "ada", "testid": "discontinuity"]) as? [String] ?? []
            #expect(notices.isEmpty, "nothing was lost: \(notices)")
            try await screenshot(driver, "ada", "chat-after-missed-messages.png")

            // A page opened now shows the room's last messages.
            try await driver.open("admin")
            try await login(driver, "admin", on: system)
            try await driver.call(["op": "wait_message", "name": "admin", "contains": "missed 20", "timeout": 10])
            #expect(try await missed("admin") == Array(1...20))
            #expect(try await messages(driver, "admin").first { $0.contains("before the cut") } != nil)
        }
    }

    /// When the history no longer reaches back to what a page last saw, the page says so with a
    /// visible notice and shows what the history still has.
    @Test func aPageTellsWhenMissedMessagesCouldNotBeRecovered() async throws {
        try await withChat { driver, system in
            for name in ["ada", "bob"] {
                try await driver.open(name)
                try await login(driver, name, on: system)
            }
            try await send(driver, "bob", "before the cut")
            try await driver.call(["op": "wait_message", "name": "ada", "contains": "before the cut", "timeout": 10])
            try await reconnectSlowly(driver, "ada")
            try await dropConnections(of: "ada", on: system)
            try await sendNumbered(driver, "bob", 12, "gone")
            // The history keeps only the last 5 now: ada's position (before the cut) is out of reach.
            let streams = try #require(system.chat.dispatcher.streams)
            _ = try await streams.store.pruneStreams(StreamRetention(messages: 5, age: .seconds(3600)), at: Date())
            try await driver.call(["op": "wait_text", "name": "ada", "testid": "connection-status", "equals": "connected", "timeout": 20])
            try await driver.call([
                "op": "wait_message", "name": "ada", "testid": "discontinuity", "contains": "could not be recovered", "timeout": 10,
            ])
            try await driver.call(["op": "wait_message", "name": "ada", "contains": "gone 12", "timeout": 10])
            let shown = try await numbered(driver, "ada", "gone")
            #expect(shown == Array(8...12), "what the history still has, once, in order: \(shown)")
            try await screenshot(driver, "ada", "chat-discontinuity.png")
        }
    }

    /// The client on its own, in the page: a refused request rejects with the refusal's status and
    /// reason, the heartbeat is answered, and the connection is renewed ahead of its maximum age.
    @Test func theClientsRequestsHeartbeatAndRenewal() async throws {
        try await withChat { driver, system in
            try await driver.open("bob")
            try await login(driver, "bob", on: system)
            let refused = try await request(driver, "bob", #"{"action":"join","channel":"staff"}"#)
            #expect(refused == "error: Permission denied", "\(refused)")
            let invalid = try await request(driver, "bob", #"{"action":"join"}"#)
            #expect(invalid.hasPrefix("error: Invalid message: missing field 'channel'"), "\(invalid)")
            // A second client in the page with a 1-second heartbeat and a 3-second age.
            let source = """
                const done = arguments[arguments.length - 1];
                import("/apigw-websockets.js").then(async ({ GatewaySocket }) => {
                  const settings = JSON.parse(document.getElementById("apigw-settings").textContent);
                  const socket = new GatewaySocket({ ...settings, channels: ["random"], heartbeatSeconds: 1, maxAgeSeconds: 3, requestTimeoutMs: 1500 });
                  const seen = [];
                  socket.addEventListener("status", () => seen.push(socket.status));
                  await socket.connect();
                  const pong = await socket.request({ action: settings.heartbeatAction });
                  setTimeout(async () => {
                    const channels = await socket.request({ action: "channels" });
                    socket.close();
                    // A handshake the gateway refuses (bob may not open into staff) stops after a few tries.
                    const refused = new GatewaySocket({ ...settings, channels: ["staff"], backoffInitialMs: 50, maxFailedOpens: 3 });
                    const outcome = await refused.connect().then(() => "connected", () => refused.status);
                    done(JSON.stringify({ seen, channels: channels.channels, pong: pong.type, refused: outcome }));
                  }, 5500);
                }, (error) => done("error: " + error));
                """
            let result = try await driver.call(["op": "script", "name": "bob", "source": source], timeout: .seconds(30)) as? String ?? ""
            let parsed = (try? JSONSerialization.jsonObject(with: Data(result.utf8))) as? [String: Any] ?? [:]
            let seen = parsed["seen"] as? [String] ?? []
            #expect(seen.filter { $0 == "connected" }.count >= 2 && seen.contains("reconnecting"), "renewed ahead of its age: \(result)")
            #expect(parsed["channels"] as? [String] == ["random"], "the renewed connection re-joined its channel: \(result)")
            #expect(parsed["pong"] as? String == "pong", "the heartbeat is answered: \(result)")
            #expect(parsed["refused"] as? String == "closed", "a refused handshake gives up: \(result)")
            let sessions = try await system.chat.dispatcher.store.sessions(
                SessionFilter(channel: ChannelName("random")), after: nil, limit: 10)
            #expect(sessions.count >= 2, "one session per connection")
            #expect(sessions.contains { $0.requestCount >= 2 }, "heartbeats reached the backend: \(sessions.map(\.requestCount))")
        }
    }

    /// A route the backend's code gains reaches the open page once `gateway apply` creates it.
    struct ShoutController: WebSocketController {
        let routeKey: RouteKey = "shout"
        struct Shout: Decodable, Sendable { let text: String }
        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.onDefault(Shout.self) { message, context in try await context.reply(["shout": message.text.uppercased()]) }
        }
    }

    @Test func aRouteAddedInCodeReachesThePageAfterGatewayApply() async throws {
        guard let driver = try await BrowserDriver.start() else { return }
        let local = LocalGateway(configuration: LocalGatewayConfiguration(port: 0))
        try await local.start()
        let database = Self.newDatabase()
        let first = try await System.start(local: local, database: database)
        var second: System?
        do {
            try await driver.open("ada")
            try await login(driver, "ada", on: first)
            let before = try await request(driver, "ada", #"{"action":"shout","text":"hi"}"#)
            #expect(before.contains(#""echo""#), "without its route the message goes to $default: \(before)")

            // The backend restarts on the same address with the new controller; the page stays.
            let port = Int(first.backend.split(separator: ":").last!)!
            try await first.stopBackend()
            let restarted = try await System.start(
                local: local, database: database, port: port, extra: [ShoutController()], provision: false)
            second = restarted
            let console = RecordingConsole()
            var context = CommandContext(
                console: console,
                input: CommandInput(arguments: [
                    "App", "gateway", "apply", "--gateway", "chat", "--endpoint", "http://127.0.0.1:\(local.port!)",
                ]))
            context.application = restarted.app
            try await console.run(
                AsyncCommands(commands: ["gateway": GatewayCommands(credentials: StaticCredentialProvider(ChatSettings.localCredentials))])
                    .group(),
                with: context)
            #expect(console.text.contains("Applied"), "\(console.text)")
            let after = try await request(driver, "ada", #"{"action":"shout","text":"hi"}"#)
            #expect(after.contains(#""shout":"HI""#), "the new route answers: \(after)")
            await driver.stop()
            try await restarted.stopBackend()
            try await local.stop()
        } catch {
            await driver.stop()
            try? await second?.stopBackend()
            try? await local.stop()
            throw error
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
    }
}
