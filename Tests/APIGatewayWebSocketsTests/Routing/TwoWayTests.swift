import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Foundation
import HTTPTypes
import NIOCore
import Synchronization
import Testing

/// On a two-way route the first message to the sender travels in the integration response
/// (API Gateway sends the body back as a frame); everything else is posted as on a one-way route.
@Suite struct TwoWayTests {
    struct TwoWayController: WebSocketController {
        var routeKey = RouteKey.default
        var twoWay = true

        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.onRaw("default") { body, context in try await context.reply(["echo": String(buffer: body)]) }
            handlers.onRaw("twice") { _, context in
                try await context.reply(["n": 1])
                try await context.reply(["n": 2])
            }
            handlers.onRaw("sendThenReply") { _, context in
                try await context.send(["n": 1], to: .connection(context.connectionID))
                try await context.reply(["n": 2])
            }
            handlers.onRaw("replyThenRoom") { _, context in
                let report = try await context.reply(["type": "receipt"])
                #expect(report.sent == 1, "held for the response, the reply counts as sent")
                try await context.send(["type": "message"], to: .channel("room"))
            }
            handlers.onRaw("replyThenFail") { _, context in
                try await context.reply(["type": "receipt"])
                throw Refusal(status: .conflict, reason: "too late")
            }
            handlers.onRaw("quiet") { _, _ in }
            handlers.onRaw("boom") { _, _ in throw CocoaError(.fileNoSuchFile) }
            handlers.onRaw("teapot") { _, _ in throw Refusal(status: HTTPResponse.Status(code: 418), reason: "I'm a teapot") }
        }
    }

    func harness(_ controllers: [any WebSocketController] = [TwoWayController()]) throws -> Harness {
        try Harness(controllers: controllers)
    }

    @Test func aReplyTravelsInTheResponseWithNoPost() async throws {
        let harness = try harness()
        let connection = try await harness.connected()
        let response = try await connection.send("hello")
        #expect(response.status == .ok)
        #expect(response.bodyText == #"{"echo":"hello"}"#)
        #expect(harness.poster.posts.isEmpty)

        let request = try await connection.send(#"{"handler":"default","id":"r-1"}"#)
        #expect(request.bodyText.hasPrefix(#"{"id":"r-1","#), "under the request's id, as a post would be: \(request.bodyText)")
        #expect(harness.poster.posts.isEmpty)
    }

    @Test func aSecondMessageToTheSenderPostsBothInOrder() async throws {
        let harness = try harness()
        let connection = try await harness.connected()
        for handler in ["twice", "sendThenReply"] {
            harness.poster.reset()
            let response = try await connection.send(#"{"handler":"\#(handler)"}"#)
            #expect(response.status == .ok && response.body.readableBytes == 0, "nothing left for the response")
            #expect(harness.poster.texts(to: connection.id) == [#"{"n":1}"#, #"{"n":2}"#], "\(handler)")
        }
    }

    @Test func sendsToOthersArePostedAndTheReplyIsNotHeldBackByThem() async throws {
        let harness = try harness()
        let sender = try await harness.connected(query: ["channel": "room"])
        let other = try await harness.connected(query: ["channel": "room"])
        let response = try await sender.send(#"{"handler":"replyThenRoom"}"#)
        #expect(response.bodyText == #"{"type":"receipt"}"#)
        #expect(harness.poster.texts(to: other.id) == [#"{"type":"message"}"#])
        #expect(harness.poster.texts(to: sender.id) == [#"{"type":"message"}"#], "the room's message reaches its sender by post")
    }

    @Test func aRefusalWithAnIDIsTheResponseAndOneWithoutSendsNoFrame() async throws {
        let harness = try harness()
        let connection = try await harness.connected()
        for (handler, status, reason) in [("teapot", 418, "I'm a teapot"), ("boom", 500, "Internal server error")] {
            let answered = try await connection.send(#"{"handler":"\#(handler)","id":"x"}"#)
            // 200: API Gateway passes a 2xx body on as it is, where a 5xx becomes its own error frame.
            #expect(answered.status == .ok, "\(handler)")
            let frame = (try JSONSerialization.jsonObject(with: Data(buffer: answered.body)) as? [String: Any])?.mapValues { "\($0)" }
            #expect(frame == ["id": "x", "type": "error", "status": "\(status)", "reason": reason], "\(answered.bodyText)")

            let unanswered = try await connection.send(#"{"handler":"\#(handler)"}"#)
            #expect(unanswered.status.code == status)
            #expect(unanswered.body.readableBytes == 0, "no id, no frame: the client of a one-way route hears nothing either")
        }
        let refusedEarly = try await harness.send(connection, body: #"{"id":"y"}"#) { $0[.gatewaySecret] = "wrong" }
        #expect(refusedEarly.status == .forbidden && refusedEarly.body.readableBytes == 0, "a guard's refusal sends no frame")
        #expect(harness.poster.posts.isEmpty)
    }

    /// A message with an id from a connection with no live session (guard 9) is answered in the
    /// response on a two-way route: a client waiting on the id hears why.
    @Test func aMessageWithoutALiveSessionIsAnsweredUnderItsID() async throws {
        let harness = try harness()
        let connection = try await harness.connected()
        _ = try await connection.disconnect()
        let answered = try await connection.send(#"{"handler":"default","id":"late"}"#)
        let frame = (try JSONSerialization.jsonObject(with: Data(buffer: answered.body)) as? [String: Any])?.mapValues { "\($0)" }
        #expect(answered.status == .ok && frame?["id"] == "late" && frame?["status"] == "410", "\(answered.bodyText)")
        let unanswered = try await connection.send(#"{"handler":"default"}"#)
        #expect(unanswered.status == .gone && unanswered.body.readableBytes == 0)
    }

    @Test func aReplyHeldBeforeTheHandlerFailsIsStillSent() async throws {
        let harness = try harness()
        let connection = try await harness.connected()
        let response = try await connection.send(#"{"handler":"replyThenFail","id":"z"}"#)
        #expect(response.status == .ok)
        #expect(json(response.bodyText) == ["id": "z", "type": "receipt"], "answered once: the reply, not the refusal")
        #expect(harness.poster.posts.isEmpty)
    }

    @Test func theHeartbeatIsTheResponse() async throws {
        let harness = try harness()
        let connection = try await harness.connected()
        let response = try await connection.send(#"{"action":"ping","id":"h"}"#)
        #expect(json(response.bodyText) == ["id": "h", "type": "pong"])
        #expect(harness.poster.posts.isEmpty)
    }

    @Test func aHandlerThatSaysNothingAnswersAnEmptyBody() async throws {
        let harness = try harness()
        let connection = try await harness.connected()
        let response = try await connection.send(#"{"handler":"quiet"}"#)
        #expect(response.status == .ok && response.body.readableBytes == 0)
    }

    @Test func oneWayRoutesStillPostAndOnlyMessageRoutesAreTwoWay() async throws {
        let harness = try harness([TwoWayController(twoWay: false), TwoWayController(routeKey: "custom")])
        let routes = Dictionary(uniqueKeysWithValues: harness.dispatcher.routes.map { ($0.routeKey, $0.twoWay) })
        #expect(routes == [.connect: false, .disconnect: false, .default: false, "custom": true])
        #expect(harness.dispatcher.routes.last?.description == "custom → POST /ws/custom (two-way)")

        let connection = try await harness.connected()
        let oneWay = try await connection.send("hello")
        #expect(oneWay.body.readableBytes == 0 && harness.poster.texts(to: connection.id) == [#"{"echo":"hello"}"#])
        harness.poster.reset()
        let twoWay = try await connection.send(#"{"action":"custom"}"#)
        #expect(twoWay.bodyText == #"{"echo":"{\"action\":\"custom\"}"}"#)
        #expect(harness.poster.posts.isEmpty)
    }

    /// Posts the first message slowly, or fails it; records what it posted, in order.
    final class ScriptedPoster: ConnectionPoster {
        let failFirst: Bool
        let posted = Mutex<[String]>([])
        let count = Atomic<Int>(0)
        init(failFirst: Bool) { self.failFirst = failFirst }
        func post(_ payload: Payload, to connection: ConnectionID, on gateway: GatewayRecord) async throws -> PostResult {
            if count.wrappingAdd(1, ordering: .relaxed).oldValue == 0 {
                if failFirst { throw CocoaError(.fileNoSuchFile) }
                try await Task.sleep(for: .milliseconds(100))
            }
            posted.withLock { $0.append(String(buffer: payload.bytes)) }
            return .sent
        }
        func close(_ connection: ConnectionID, on gateway: GatewayRecord) async throws -> PostResult { .sent }
    }

    struct ConcurrentReplies: WebSocketController {
        let routeKey = RouteKey.default
        let twoWay = true
        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.onRaw("default") { _, context in
                try await context.reply(["n": 1])
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await context.reply(["n": 2]) }
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(20))  // after the second has begun posting the first
                        try await context.reply(["n": 3])
                    }
                    try await group.waitForAll()
                }
            }
        }
    }

    func concurrentRun(failFirst: Bool) async throws -> [String] {
        let poster = ScriptedPoster(failFirst: failFirst)
        let record = GatewayRecord(apiID: apiID, stage: "dev", region: "eu-west-1")
        let dispatcher = GatewayDispatcher(store: InMemoryConnectionStore(), gateways: CachedGatewayDirectory([record]), poster: poster)
        _ = try dispatcher.register(ConcurrentReplies())
        let connection = try await FakeAPIGateway(
            apiID: apiID, stage: "dev", routes: dispatcher.routes, transport: DispatcherTransport(dispatcher: dispatcher)
        ).connect()
        let response = try await connection.send("go")
        #expect(response.status == .ok && response.body.readableBytes == 0)
        return poster.posted.withLock { $0 }
    }

    /// A review found that a message offered while the held one was being posted went straight
    /// out, ahead of it; and that a failed post of the held one dropped the message after it.
    @Test func aMessageOfferedWhileTheHeldOneIsPostedWaitsForIt() async throws {
        #expect(try await concurrentRun(failFirst: false) == [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#])
        #expect(try await concurrentRun(failFirst: true) == [#"{"n":2}"#, #"{"n":3}"#], "the held one failed; the rest still go")
    }
}
