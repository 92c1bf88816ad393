import Foundation
import NIOCore
import Logging
import Metrics
import Tracing

extension GatewayDispatcher {
    /// A message: guards 9–10, then the handler the body selects (the heartbeat answered here
    /// unless the app registered one of its name). A message with an `id` that is refused hears
    /// why, under that id, unless the handler already answered it. On a two-way route the first
    /// message to the sender (a reply, the pong, the refusal) is the response's body.
    func message(_ request: GatewayRequest, _ checked: Checked, _ endpoint: Endpoint, _ logger: Logger) async throws -> GatewayResponse {
        let held = endpoint.route.twoWay ? HeldReply() : nil
        let selector = HandlerSelector(request.body)
        let session = try await liveSession(checked, answering: endpoint.route.twoWay ? selector.id : nil, logger)  // 9
        var answered: AnswerMark?
        do {
            if let heartbeat = configuration.heartbeatAction, selector.handler == nil, selector.action == heartbeat,
                !endpoint.controller.handlers.has(heartbeat)
            {
                try await answer(try Payload(json: Pong()), to: session, under: selector.id, on: checked.gateway, held)
                return GatewayResponse(answering: held)
            }
            guard let (name, handler) = endpoint.controller.handlers.select(selector) else {
                throw Refusal.noHandler(selector.handler ?? selector.action, route: endpoint.route.routeKey)  // 10
            }
            try await checkRequirements(of: endpoint, handler: name, for: session)  // 10
            let context = MessageContext(
                request: request, session: session, gateway: checked.gateway, routeKey: endpoint.route.routeKey,
                handlerName: name, requestID: selector.id, answered: selector.id.map { _ in AnswerMark() }, heldReply: held,
                messenger: messenger, channels: channels, streams: streams, logger: logger
            )
            answered = context.answered
            let (timer, span) = metrics.handler(endpoint.route.routeKey, name)
            let handled = ContinuousClock.now
            defer { timer.record(duration: handled.duration(to: .now)) }
            try await withSpan(span, ofKind: .internal) { _ in try await handler(request.body, context) }
            return GatewayResponse(answering: held)
        } catch {
            if let id = selector.id, answered?.isMarked != true {
                let refusal = Refusal.answering(error)
                let problem = RequestProblem(status: refusal.status.code, reason: refusal.reason)
                do { try await answer(try Payload(json: problem), to: session, under: id, on: checked.gateway, held) } catch {
                    logger.debug("the refusal could not be answered to its sender", metadata: ["apigw.error": "\(error)"])
                }
            }
            if let frame = held?.take() { throw AnsweredInResponse(error: error, frame: frame) }
            throw error
        }
    }

    /// Guard 9. A refusal here has no live session to post to; on a two-way route, a message with
    /// an id (`answering`) hears it in the response.
    @inline(never)  // keeps the refusal's path out of the message's async frame
    private func liveSession(_ checked: Checked, answering id: String?, _ logger: Logger) async throws -> Session {
        do {
            let session = try await checkLiveSession(checked)
            try await checkSessionLoginState(session, on: checked.gateway, logger)
            return session
        } catch {
            guard let id else { throw error }
            let refusal = Refusal.answering(error)
            let frame = try Payload(json: RequestProblem(status: refusal.status.code, reason: refusal.reason)).answering(id)
            throw AnsweredInResponse(error: error, frame: frame.bytes)
        }
    }

    private struct Pong: Encodable { let type = "pong" }

    /// What a refused message with an id is answered: `{"id": …, "type": "error", "status": 403,
    /// "reason": "Permission denied"}`.
    private struct RequestProblem: Encodable {
        let type = "error"
        let status: Int
        let reason: String
    }

    private func answer(_ payload: Payload, to session: Session, under id: String?, on gateway: GatewayRecord, _ held: HeldReply?)
        async throws
    {
        let answer = try id.map { try payload.answering($0) } ?? payload
        if let held {
            _ = try await messenger.send(answer, toSender: session.connectionID, holding: held, on: gateway)
        } else {
            _ = try await messenger.send(answer, to: .connection(session.connectionID), on: gateway)
        }
    }
}

/// A refused message whose sender already has its answer in the response's body (a two-way
/// route): the refusal is logged and counted, the body answered.
struct AnsweredInResponse: Error {
    let error: any Error
    let frame: ByteBuffer
}

extension GatewayResponse {
    /// `200 OK` with what the sender was held, or with no body (which API Gateway sends no frame for).
    init(answering held: HeldReply?) {
        self.init(status: .ok, headerFields: [:], body: held?.take() ?? ByteBuffer())
    }
}
