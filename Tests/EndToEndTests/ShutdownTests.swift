import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import ChatApp
import FluentSQLiteDriver
import Foundation
import PeerSupport
import SQLKit
import Synchronization
import Testing
import Vapor
import VaporAPIGatewayWebSocketsTesting

/// SIGTERM while a long fan-out is in flight: the backend stops taking connections, finishes the
/// event (every recipient posted to, the sender answered), writes its touches, then exits 0.
@Suite struct ShutdownTests {
    static let recipients = 150
    static let postDelay = Duration.milliseconds(800)

    @Test func sigtermFinishesAFanoutInFlight() async throws {
        guard let executable = ChatCommandLineTests.requireExecutable("sigtermFinishesAFanoutInFlight") else { return }
        // @connections, slow: every post takes 0.8 s, so 150 recipients at 64 in flight take ~2.4 s.
        let sinkLog = SinkLog()
        let sink = try await LoopbackServer { request in
            sinkLog.arrived.add(1, ordering: .relaxed)
            try? await Task.sleep(for: Self.postDelay)
            sinkLog.answered.withLock { $0.append(request.uri) }
            return .init(status: 200)
        }
        defer { Task { try? await sink.close() } }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sigterm-fanout-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try ScaleOutTests.Nginx.freePort()
        let settings = ChatSettings()
        let chat = try ChatProcess(
            executable, in: folder,
            arguments: ["serve", "--hostname", "127.0.0.1", "--port", "\(port)"],
            environment: ["CHAT_LOCAL_GATEWAY": "off", "CHAT_MANAGEMENT_ENDPOINT": sink.url, "CHAT_ORIGINS": "127.0.0.1"])
        defer { chat.stop() }
        let backend = "http://127.0.0.1:\(port)"
        #expect(await eventually(timeout: .seconds(30)) { chat.stderr.contains("Server started") }, "\(chat.stderr.suffix(400))")

        // The audience: 150 connections in the lobby, 50 for each demo user, each user from an
        // address of its own (the chat allows 60 connects a minute per user, 120 per address).
        var gateway = chatGateway(settings, backend: backend)
        var sender: FakeConnection?
        for (index, user) in ["ada", "bob", "admin"].enumerated() {
            let cookie = try await ScaleOutTests().login(user, at: backend)
            gateway.sourceIP = "198.51.100.\(index + 1)"
            for _ in 0..<(Self.recipients / 3) {
                let connection = try await gateway.connect(
                    query: ["channel": "lobby"], headers: [.cookie: cookie, .origin: "http://127.0.0.1"])
                #expect(connection.isAccepted, "\(connection.connectResponse.status)")
                sender = sender ?? connection
            }
        }
        let from = try #require(sender)

        // The message whose fan-out is in flight when the signal comes.
        let event = Task { try await from.send(#"{"action":"sendmessage","channel":"lobby","text":"last call","id":"m1"}"#) }
        #expect(await eventually(timeout: .seconds(10)) { sinkLog.arrived.load(ordering: .relaxed) > 0 }, "the fan-out began")
        let answeredBeforeTheSignal = sinkLog.answered.withLock { $0.count }
        #expect(answeredBeforeTheSignal == 0, "no post has been answered yet")
        let signalled = ContinuousClock.now
        kill(chat.process.processIdentifier, SIGTERM)

        let response = try await event.value
        #expect(response.status == .ok, "the event in flight is answered 200")
        let status = await chat.exited.next(timeout: .seconds(20))
        let took = signalled.duration(to: .now)
        #expect(status == 0, "exits 0: \(String(describing: status)) \(chat.stderr.suffix(600))")
        let posts = sinkLog.answered.withLock { $0 }
        // Every recipient (the sender too) got the message; the sender's answer is the response's
        // body (the chat's route is two-way), no post.
        #expect(posts.count == Self.recipients, "\(posts.count) posts, \(took) after the signal")
        #expect(Set(posts).count == Self.recipients, "each connection posted to once")
        #expect(String(buffer: response.body).contains(#""type":"sent""#), "the answer: \(String(buffer: response.body))")
        #expect(took >= Self.postDelay, "the backend waited for the fan-out: \(took)")
        #expect(!chat.stderr.contains("Fatal error") && !chat.stderr.contains("Error:"), "\(chat.stderr.suffix(600))")

        // After the exit, the sender's touch is in the database: its one message counted.
        let app = try await Application.make(.testing)
        app.databases.use(.sqlite(.file(chat.database.path)), as: .sqlite)
        let counted = try await (app.db as! any SQLDatabase).raw(
            "SELECT request_count AS n FROM apigw_sessions WHERE connection_id = \(bind: from.id.rawValue)"
        ).first()?.decode(column: "n", as: Int.self)
        try await app.asyncShutdown()
        #expect(counted == 1, "the touch of the message in flight was written")
    }
}

/// What the slow sink saw: posts begun, and the paths of those it answered.
private final class SinkLog: Sendable {
    let arrived = Atomic<Int>(0)
    let answered = Mutex<[String]>([])
}

/// API Gateway in front of a chat process at `backend`, with the example's default settings: its
/// `$connect`, `$disconnect` and two-way `$default` routes, through HTTP.
func chatGateway(_ settings: ChatSettings, backend: String) -> FakeAPIGateway {
    FakeAPIGateway(
        apiID: settings.gateway.apiID, stage: settings.gateway.stage,
        routes: [
            RegisteredRoute(routeKey: .connect, path: "/ws/connect", event: .connect),
            RegisteredRoute(routeKey: .disconnect, path: "/ws/disconnect", event: .disconnect),
            RegisteredRoute(routeKey: .default, path: "/ws/default", event: .message, twoWay: true),
        ],
        secret: settings.secret, transport: LiveTransport(baseURL: backend, timeout: .seconds(30)))
}
