import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import AsyncHTTPClient
import NIOCore
import ChatApp
import Foundation
import PeerSupport
import Synchronization
import Testing
import VaporAPIGatewayWebSocketsTesting

/// The issue's crash test: 300 publishes accepted by `POST /ws/publish`, the app killed with
/// SIGKILL while the delivery worker is fanning them out, then started again on the same
/// database: every message reaches every member (some twice: at least once), and the history
/// holds each offset once.
@Suite struct OutboxCrashTests {
    static let messages = 300
    static let members = 3

    @Test func aKillDuringTheFanOutLosesNoAcceptedMessage() async throws {
        guard let executable = ChatCommandLineTests.requireExecutable("aKillDuringTheFanOutLosesNoAcceptedMessage") else { return }
        // @connections, a little slow (20 ms a post), recording what each connection was sent.
        let sink = Sink()
        let server = try await LoopbackServer { request in
            sink.record(request)
            try? await Task.sleep(for: .milliseconds(20))
            return .init(status: 200)
        }
        defer { Task { try? await server.close() } }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-crash-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try ScaleOutTests.Nginx.freePort()
        let backend = "http://127.0.0.1:\(port)"
        let environment = [
            "CHAT_LOCAL_GATEWAY": "off", "CHAT_MANAGEMENT_ENDPOINT": server.url, "CHAT_ORIGINS": "127.0.0.1",
            "CHAT_PUBLISH_KEY": "crash-test-key", "CHAT_DELIVERY_CLAIM_SECONDS": "2",
        ]
        func start() async throws -> ChatProcess {
            let chat = try ChatProcess(
                executable, in: folder, arguments: ["serve", "--hostname", "127.0.0.1", "--port", "\(port)"], environment: environment)
            let up = await eventually(timeout: .seconds(30)) { (try? await Self.get(backend + "/login")) != nil }
            #expect(up, "\(chat.stderr.suffix(400))")
            return chat
        }
        var chat = try await start()
        defer { chat.stop() }

        // Three members of the lobby, through API Gateway's integration requests.
        let settings = ChatSettings()
        let gateway = chatGateway(settings, backend: backend)
        var members: [FakeConnection] = []
        for user in ["ada", "bob", "admin"] {
            let cookie = try await ScaleOutTests().login(user, at: backend)
            let member = try await gateway.connect(query: ["channel": "lobby"], headers: [.cookie: cookie, .origin: "http://127.0.0.1"])
            #expect(member.isAccepted, "\(member.connectResponse.status)")
            members.append(member)
        }

        // 300 accepted publishes: each 202 is a promise.
        var offsets: [Int] = []
        for index in 1...Self.messages {
            let (status, body) = try await Self.publish(
                backend, #"{"channel":"lobby","payload":{"type":"message","from":"job","text":"n\#(index)"},"idempotencyKey":"job-\#(index)"}"#)
            #expect(status == 202, "\(body)")
            offsets.append((try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["offset"] as? Int ?? 0)
        }
        #expect(offsets == Array(1...Self.messages), "each accepted publish took the next offset")
        // Killed while the worker fans them out (20 ms a post: 300 messages take seconds).
        #expect(await eventually(timeout: .seconds(30)) { sink.posts() >= 90 }, "the fan-out began")
        kill(chat.process.processIdentifier, SIGKILL)
        _ = await chat.exited.next(timeout: .seconds(10))
        let atTheKill = sink.delivered(to: members.map(\.id))
        #expect(atTheKill.contains { $0 < Self.messages }, "the kill came mid-delivery: \(atTheKill) of \(Self.messages)")

        // Started again on the same database: the outbox is delivered, what was in flight again.
        chat = try await start()
        let everyone = await eventually(timeout: .seconds(60)) {
            sink.delivered(to: members.map(\.id)).allSatisfy { $0 == Self.messages }
        }
        #expect(everyone, "every member got every message: \(sink.delivered(to: members.map(\.id)))")
        #expect(sink.offsets(to: members[0].id).first == 1)

        // The history holds each one once, in order: three pages of 100, asked through a member (the
        // chat's route is two-way: each page is the response).
        var pages: [[String: Any]] = []
        for before in [101, 201, 301] {
            let page = try await members[0].send(#"{"action":"history","channel":"lobby","limit":100,"before":\#(before)}"#)
            pages += [try JSONSerialization.jsonObject(with: Data(String(buffer: page.body).utf8)) as? [String: Any] ?? [:]]
        }
        let history = pages.flatMap { ($0["messages"] as? [[String: Any]]) ?? [] }
        #expect(history.compactMap { $0["offset"] as? Int } == Array(1...Self.messages))
        #expect(history.compactMap { $0["text"] as? String } == (1...Self.messages).map { "n\($0)" })
        chat.stop()
        _ = await chat.exited.next(timeout: .seconds(20))
    }

    static func publish(_ backend: String, _ body: String) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: backend + "/ws/publish")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer crash-test-key")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return (Int(response.status.code), text)
    }

    static func get(_ url: String) async throws -> Int {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(2))
        return Int(response.status.code)
    }
}

/// What the @connections sink was posted, by connection.
private final class Sink: Sendable {
    private let posted = Mutex<[(connection: String, body: String)]>([])

    func record(_ request: LoopbackServer.Request) {
        guard request.method == "POST", let id = request.uri.split(separator: "/").last else { return }
        let connection = id.removingPercentEncoding ?? String(id)
        posted.withLock { $0.append((connection, String(decoding: request.body, as: UTF8.self))) }
    }

    func posts() -> Int { posted.withLock { $0.count } }
    func reset() { posted.withLock { $0.removeAll() } }

    func bodies(to connection: ConnectionID) -> [String] {
        posted.withLock { $0.filter { $0.connection == connection.rawValue }.map(\.body) }
    }

    /// The stream offsets `connection` was sent, in order, repeats included.
    func offsets(to connection: ConnectionID) -> [Int] {
        bodies(to: connection).compactMap { body in
            (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
                .flatMap { $0["type"] as? String == "message" ? $0["offset"] as? Int : nil }
        }
    }

    /// How many distinct offsets each of `connections` was sent.
    func delivered(to connections: [ConnectionID]) -> [Int] {
        connections.map { Set(offsets(to: $0)).count }
    }
}
