import APIGatewayWebSocketsClient
import Foundation
import Synchronization
import Testing

/// The Swift client against a scripted server: a fake transport whose connections answer what the
/// test tells them to, so reconnects, re-joins and duplicates are deterministic.
@Suite struct GatewayClientTests {
    /// A server's side of each connection the client opens: what it was sent, and a way to answer.
    final class FakeServer: GatewayTransport, @unchecked Sendable {
        final class Connection: GatewayConnection, @unchecked Sendable {
            let url: URL
            let inbound: AsyncStream<String>
            let server: AsyncStream<String>.Continuation
            let sent = Mutex<[String]>([])
            let answer: @Sendable (Connection, [String: Any]) -> Void

            init(url: URL, answer: @escaping @Sendable (Connection, [String: Any]) -> Void) {
                self.url = url
                self.answer = answer
                (inbound, server) = AsyncStream.makeStream()
            }

            func send(_ text: String) async throws {
                sent.withLock { $0.append(text) }
                if let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] { answer(self, object) }
            }

            func close() async { server.finish() }
            func push(_ text: String) { server.yield(text) }
            func cut() { server.finish() }
        }

        let connections = Mutex<[Connection]>([])
        let refusals = Mutex(0)
        let answer: @Sendable (Connection, [String: Any]) -> Void

        init(answer: @escaping @Sendable (Connection, [String: Any]) -> Void) { self.answer = answer }

        func open(_ url: URL, headers: [(String, String)], timeout: Duration) async throws -> any GatewayConnection {
            if refusals.withLock({ count in defer { count = max(0, count - 1) }; return count > 0 }) {
                throw GatewayTransportError(description: "refused")
            }
            let connection = Connection(url: url, answer: answer)
            connections.withLock { $0.append(connection) }
            return connection
        }

        var all: [Connection] { connections.withLock { $0 } }
    }

    /// Answers like the chat: `join` with the channel's position, `whoami`, a refused `staff`.
    static func chat() -> FakeServer {
        FakeServer { connection, message in
            guard let id = message["id"] as? String else { return }
            switch message["action"] as? String {
            case "join":
                let since = (message["since"] as? [String: Any])?["offset"] as? Int
                connection.push(#"{"id":"\#(id)","channel":"lobby","offset":\#(since ?? 0),"epoch":"e1","recovered":\#(since != nil)}"#)
            case "whoami": connection.push(#"{"id":"\#(id)","user":"ada"}"#)
            default: connection.push(#"{"id":"\#(id)","type":"error","status":403,"reason":"Permission denied"}"#)
            }
        }
    }

    struct WhoAmI: Decodable { let user: String }

    @Test func aRequestGetsItsTypedAnswerOrItsTypedRefusal() async throws {
        let server = Self.chat()
        let tokens = Mutex(0)
        let client = GatewayClient(
            url: URL(string: "ws://127.0.0.1:1/api/local")!,
            configuration: .init(token: { "t\(tokens.withLock { $0 += 1; return $0 })" }, channels: ["lobby"], heartbeatAction: nil),
            transport: server)
        try await client.connect()
        #expect(server.all.first?.url.query == "channel=lobby&ws_token=t1")
        #expect(try await client.request(["action": "whoami"], as: WhoAmI.self).user == "ada")
        let refusal = await #expect(throws: GatewayRefusal.self) { try await client.request(["action": "staff"], as: WhoAmI.self) }
        #expect(refusal == GatewayRefusal(status: 403, reason: "Permission denied"))
        await client.close()
    }

    struct Who: ActionRequest {
        typealias Answer = WhoAmI
        static let action = "whoami"
        let verbose: Bool
    }
    struct Shout: ActionMessage {
        static let action = "shout"
        let text: String
    }

    /// A declared request carries its action beside its own fields, and its answer is its type.
    @Test func aDeclaredRequestNamesItsActionAndItsAnswer() async throws {
        let server = Self.chat()
        let client = GatewayClient(
            url: URL(string: "ws://127.0.0.1:1/api/local")!, configuration: .init(heartbeatAction: nil), transport: server)
        try await client.connect()
        #expect(try await client.request(Who(verbose: true)).user == "ada")
        try await client.send(Shout(text: "hi"))
        let sent = try #require(server.all.first).sent.withLock { $0 }.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let who = try #require(sent.first)
        #expect(who["action"] as? String == "whoami" && who["verbose"] as? Bool == true && who["id"] is String, "\(sent)")
        #expect(sent.last?.mapValues { "\($0)" } == ["action": "shout", "text": "hi"])
        await client.close()
    }

    /// Cut, the client reconnects with a fresh token, re-joins from the last offset it saw, and
    /// hears each message once: a replayed one it already had is dropped.
    @Test func aCutIsResumedWithoutLossOrDuplicates() async throws {
        let server = Self.chat()
        let tokens = Mutex(0)
        let client = GatewayClient(
            url: URL(string: "ws://127.0.0.1:1/api/local")!,
            configuration: .init(
                token: { "t\(tokens.withLock { $0 += 1; return $0 })" }, channels: ["lobby"], heartbeatAction: nil,
                initialBackoff: .milliseconds(1), maximumBackoff: .milliseconds(5)),
            transport: server)
        try await client.connect()
        var heard = client.messages.makeAsyncIterator()
        let first = try #require(server.all.first)
        first.push(#"{"channel":"lobby","offset":1,"epoch":"e1","text":"one"}"#)
        first.push(#"{"channel":"lobby","offset":2,"epoch":"e1","text":"two"}"#)
        #expect(await heard.next()?.offset == 1)
        #expect(await heard.next()?.offset == 2)
        server.refusals.withLock { $0 = 2 }  // the first two reconnects are refused, then one succeeds
        first.cut()
        // Bounded: 10 s at most, though it takes milliseconds.
        for _ in 0..<5_000 {
            let status = await client.status
            if server.all.count >= 2 && status == .connected { break }
            try await Task.sleep(for: .milliseconds(2))
        }
        try #require(server.all.count >= 2)
        let second = server.all[1]
        #expect(second.url.query == "channel=lobby&ws_token=t4", "a fresh token for each try")
        let rejoin = try #require(second.sent.withLock { $0 }.first { $0.contains(#""action":"join""#) })
        #expect(rejoin.contains(#""since":{"epoch":"e1","offset":2}"#) || rejoin.contains(#""since":{"offset":2,"epoch":"e1"}"#), "\(rejoin)")
        second.push(#"{"channel":"lobby","offset":2,"epoch":"e1","text":"two"}"#)  // replayed, already had
        second.push(#"{"channel":"lobby","offset":3,"epoch":"e1","text":"three"}"#)
        let next = await heard.next()
        #expect(next?.offset == 3, "the duplicate is dropped: \(String(describing: next))")
        #expect(await client.position(of: "lobby") == StreamPosition(offset: 3, epoch: "e1"))
        #expect(await client.connects == 2)
        await client.close()
    }

    @Test func theBackoffDoublesToItsCapWithJitter() {
        let initial = Duration.milliseconds(500), maximum = Duration.seconds(30)
        #expect(GatewayClient.backoff(attempt: 0, initial: initial, maximum: maximum, random: 1) == .milliseconds(500))
        #expect(GatewayClient.backoff(attempt: 3, initial: initial, maximum: maximum, random: 1) == .seconds(4))
        #expect(GatewayClient.backoff(attempt: 3, initial: initial, maximum: maximum, random: 0.5) == .seconds(2))
        #expect(GatewayClient.backoff(attempt: 60, initial: initial, maximum: maximum, random: 1) == .seconds(30), "capped, no overflow")
    }

    @Test func connectGivesUpAfterItsLimit() async throws {
        let server = Self.chat()
        server.refusals.withLock { $0 = 100 }
        let client = GatewayClient(
            url: URL(string: "ws://127.0.0.1:1/api/local")!,
            configuration: .init(heartbeatAction: nil, initialBackoff: .milliseconds(1), maximumBackoff: .milliseconds(2), maximumFailedConnects: 3),
            transport: server)
        await #expect(throws: GatewayTransportError.self) { try await client.connect() }
        #expect(await client.status == .closed)
    }

    /// An answer that comes after its request gave up is nobody's message; a closed client stays closed.
    @Test func aLateAnswerIsDroppedAndAClosedClientStaysClosed() async throws {
        let late = Mutex<(GatewayClientTests.FakeServer.Connection, String)?>(nil)
        let server = FakeServer { connection, message in
            guard let id = message["id"] as? String else { return }
            if message["action"] as? String == "slow" { late.withLock { $0 = (connection, id) }; return }
            connection.push(#"{"id":"\#(id)","channel":"lobby","offset":0,"epoch":"e1"}"#)
        }
        let client = GatewayClient(
            url: URL(string: "ws://127.0.0.1:1/api/local")!, configuration: .init(channels: ["lobby"], heartbeatAction: nil), transport: server)
        try await client.connect()
        let timedOut = await #expect(throws: GatewayRefusal.self) {
            try await client.request(["action": "slow"], as: WhoAmI.self, timeout: .milliseconds(20))
        }
        #expect(timedOut?.status == 0)
        let (connection, id) = try #require(late.withLock { $0 })
        connection.push(#"{"id":"\#(id)","user":"late"}"#)
        connection.push(#"{"type":"notice","text":"next"}"#)
        var heard = client.messages.makeAsyncIterator()
        #expect(await heard.next()?.type == "notice", "the late answer is not a message")
        await client.close()
        await #expect(throws: GatewayRefusal.self) { try await client.connect() }
    }

    /// Ahead of API Gateway's 2-hour cut the client opens a new connection and resumes its
    /// channels on it, without waiting for a backoff.
    @Test func anOldConnectionIsRenewedAndItsChannelsResumed() async throws {
        let server = Self.chat()
        let client = GatewayClient(
            url: URL(string: "ws://127.0.0.1:1/api/local")!,
            configuration: .init(
                channels: ["lobby"], heartbeatAction: nil, initialBackoff: .seconds(60), maximumBackoff: .seconds(60),
                maximumAge: .milliseconds(50)),
            transport: server)
        try await client.connect()
        server.all[0].push(#"{"channel":"lobby","offset":5,"epoch":"e1","text":"five"}"#)
        var heard = client.messages.makeAsyncIterator()
        #expect(await heard.next()?.offset == 5)
        for _ in 0..<5_000 where server.all.count < 2 { try await Task.sleep(for: .milliseconds(2)) }
        let renewed = try #require(server.all.dropFirst().first, "a second connection, without a minute's backoff")
        for _ in 0..<5_000 where !renewed.sent.withLock({ !$0.isEmpty }) { try await Task.sleep(for: .milliseconds(2)) }
        #expect(renewed.sent.withLock { $0 }.first?.contains(#""since":{"#) == true, "the channel resumed from offset 5")
        await client.close()
    }

    /// A message that comes before the ones ahead of it (the backend delivered the next one live
    /// while the earlier one was still on its way) is held; the client joins again from the last
    /// position it saw, the backend replays the missing one, and both come out in order, once.
    /// (The end-to-end test lost `three` this way: its position had jumped to `four`.)
    @Test func aGapIsFilledBeforeWhatCameEarly() async throws {
        let server = FakeServer { connection, message in
            guard let id = message["id"] as? String, message["action"] as? String == "join" else { return }
            if let since = (message["since"] as? [String: Any])?["offset"] as? Int {
                connection.push(#"{"channel":"lobby","offset":\#(since + 1),"epoch":"e1","text":"replayed"}"#)
                connection.push(#"{"id":"\#(id)","channel":"lobby","offset":\#(since + 2),"epoch":"e1","recovered":true}"#)
            } else {
                connection.push(#"{"id":"\#(id)","channel":"lobby","offset":1,"epoch":"e1"}"#)
            }
        }
        let client = GatewayClient(
            url: URL(string: "ws://127.0.0.1:1/api/local")!, configuration: .init(channels: ["lobby"], heartbeatAction: nil), transport: server)
        try await client.connect()
        let connection = try #require(server.all.first)
        connection.push(#"{"channel":"lobby","offset":3,"epoch":"e1","text":"early"}"#)
        var heard = client.messages.makeAsyncIterator()
        let first = await heard.next(), second = await heard.next()
        #expect(first?.offset == 2 && second?.offset == 3, "\(String(describing: first?.offset)), \(String(describing: second?.offset))")
        #expect(await client.position(of: "lobby") == StreamPosition(offset: 3, epoch: "e1"))
        await client.close()
    }
}
