import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Foundation
import HTTPTypes
import NIOCore
import Testing

/// A message may carry an `id`: its replies carry it back, a refusal is answered to the sender
/// under it, and the heartbeat is answered without app code.
@Suite struct RequestResponseTests {
    func objects(_ harness: Harness, _ connection: FakeConnection) -> [[String: String]] {
        harness.poster.texts(to: connection.id).map { text in
            ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]).mapValues { "\($0)" }
        }
    }

    @Test func aReplyCarriesTheRequestsID() async throws {
        let harness = try Harness()
        let connection = try await harness.connected()
        try await connection.send(#"{"handler":"greet","name":"ada","id":"r-1"}"#)
        try await connection.send(#"{"handler":"greet","name":"bob"}"#)
        try await connection.send(#"{"handler":"greet","name":"cy","id":42}"#)
        #expect(
            objects(harness, connection) == [
                ["id": "r-1", "handler": "greet", "name": "ada"], ["handler": "greet", "name": "bob"], ["handler": "greet", "name": "cy"],
            ], "a string id comes back; no id, or one that is not a string, adds none")
        #expect(harness.poster.texts(to: connection.id)[0].hasPrefix(#"{"id":"r-1","#), "the id is the first key")
    }

    @Test func aRefusedMessageIsAnsweredToItsSenderUnderItsID() async throws {
        let harness = try Harness()
        let connection = try await harness.connected()
        let cases: [(String, String, String)] = [
            (#"{"handler":"greet","id":"a"}"#, "400", "Invalid message: missing field 'name'"),
            (#"{"handler":"teapot","id":"b"}"#, "418", "I'm a teapot"),
            (#"{"handler":"boom","id":"c"}"#, "500", "Internal server error"),
        ]
        for (body, status, reason) in cases {
            harness.poster.reset()
            let response = try await connection.send(body)
            #expect(response.status.code == Int(status)!, "\(body)")
            let answer = objects(harness, connection)
            #expect(
                answer.count == 1 && answer[0]["status"] == status && answer[0]["reason"] == reason && answer[0]["type"] == "error",
                "\(answer)")
        }
        harness.poster.reset()
        #expect(try await connection.send(#"{"handler":"greet"}"#).status == .badRequest)
        #expect(harness.poster.posts.isEmpty, "without an id the refusal is API Gateway's answer only")
    }

    @Test func theHeartbeatIsAnsweredWithoutAppCode() async throws {
        let harness = try Harness()
        let connection = try await harness.connected()
        #expect(try await connection.send(#"{"action":"ping","id":"h1"}"#).status == .ok)
        #expect(objects(harness, connection) == [["id": "h1", "type": "pong"]])
        #expect(try await harness.store.session(connection.id)?.requestCount == 1, "a heartbeat is a message: it keeps the session live")

        struct OwnPing: WebSocketController {
            let routeKey = RouteKey.default
            func handlers(_ handlers: inout HandlerRegistry) {
                handlers.onRaw("ping") { _, context in try await context.reply(["mine": "yes"]) }
            }
        }
        let own = try Harness(controllers: [OwnPing()])
        let client = try await own.connected()
        try await client.send(#"{"action":"ping"}"#)
        #expect(objects(own, client) == [["mine": "yes"]], "an app's own ping handler wins")

        var off = GatewayConfiguration(secrets: ["s3cret"])
        off.heartbeatAction = nil
        let silent = try Harness(configuration: off)
        let other = try await silent.connected()
        try await other.send(#"{"action":"ping"}"#)
        #expect(objects(silent, other).first?["handler"] == "default", "off: ping is an ordinary message")
    }

    struct Items: WebSocketController {
        let routeKey = RouteKey.default
        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.onRaw("item") { _, context in try await context.reply(["id": "item-7", "name": "lamp"]) }
            handlers.onRaw("half") { _, context in
                try await context.reply(["done": "half"])
                throw Refusal(status: .conflict, reason: "the rest failed")
            }
        }
    }

    // A reply with its own "id" got a second one in front, and JSON.parse kept the reply's.
    @Test func aReplyWithItsOwnIDIsCarriedWhole() async throws {
        let harness = try Harness(controllers: [Items()])
        let connection = try await harness.connected()
        try await connection.send(#"{"handler":"item","id":"r-9"}"#)
        #expect(harness.poster.texts(to: connection.id) == [#"{"id":"r-9","reply":{"id":"item-7","name":"lamp"}}"#])
    }

    // A handler that replied and then threw answered its request twice.
    @Test func aRequestIsAnsweredOnce() async throws {
        let harness = try Harness(controllers: [Items()])
        let connection = try await harness.connected()
        #expect(try await connection.send(#"{"handler":"half","id":"r-1"}"#).status == .conflict)
        #expect(harness.poster.texts(to: connection.id) == [#"{"id":"r-1","done":"half"}"#], "the reply, and no refusal after it")
    }

    @Test func answeringAddsTheIDToAnObjectOnly() throws {
        func answered(_ text: String, _ id: String) throws -> String { String(buffer: try Payload(text: text).answering(id).bytes) }
        #expect(try answered(#"{"a":1}"#, "x") == #"{"id":"x","a":1}"#)
        #expect(try answered("{}", "x") == #"{"id":"x"}"#)
        #expect(try answered(" { } ", "x") == #"{"id":"x" } "#)
        #expect(try answered(#"{"a":1}"#, #"q"u\o"#) == #"{"id":"q\"u\\o","a":1}"#, "the id is JSON-escaped")
        #expect(try answered("[1,2]", "x") == "[1,2]" && answered("plain", "x") == "plain")
        #expect(try answered(#"{"a":{"id":1}}"#, "x") == #"{"id":"x","a":{"id":1}}"#, "a nested id is not the object's own")
    }
}
