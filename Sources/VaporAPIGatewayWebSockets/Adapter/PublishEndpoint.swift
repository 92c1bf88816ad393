import APIGatewayAWS
import APIGatewayWebSockets
import Foundation
import Metrics
import Vapor

extension WebSocketGateway {
    /// Serves `POST /{path}` for other services (a worker, a cron job, another app) to publish into
    /// a channel's or a user's stream:
    ///
    /// ```sh
    /// curl -H "Authorization: Bearer $CHAT_PUBLISH_KEY" -H 'Content-Type: application/json' \
    ///      -d '{"channel":"lobby","payload":{"type":"message","from":"cron","text":"hi"},"idempotencyKey":"job-42"}' \
    ///      http://127.0.0.1:8080/ws/publish
    /// ```
    ///
    /// `{"channel": C | "user": U, "payload": {…}, "idempotencyKey": K}` (`apiId` names the API when
    /// several are registered) is answered `202 {"channel":C,"duplicate":false,"epoch":E,"offset":N}`
    /// once the message is committed to the stream: a 202 is a promise that it is delivered (by the
    /// delivery worker) and in the history, whatever crashes afterwards. A missing or
    /// wrong key is 401; a body that is not that shape is 400; a payload over 128 KiB 413; a store
    /// that does not answer 503. Without a key there is no endpoint: do not call this.
    /// - Throws: `StreamError` without streams or with an empty key.
    public func servePublishing(at path: String = "ws/publish", key: String) throws {
        guard !key.isEmpty else { throw StreamError(description: "the publish endpoint needs a key (an empty one would let anyone in)") }
        let streams = try streams()
        let components = path.split(separator: "/").map { PathComponent.constant(String($0)) }
        routes.on(.POST, components, body: .collect(maxSize: ByteCount(value: 2 * Payload.maxSize))) { [self] request async -> Response in
            func count(_ outcome: String) { Counter(label: "apigw_publish_requests_total", dimensions: [("outcome", outcome)]).increment() }
            guard let presented = request.headers.bearerAuthorization?.token, ConstantTime.equals(presented, key) else {
                count("unauthorized")
                let response = Response.problem(.unauthorized, "A publish needs the server key: Authorization: Bearer <key>")
                response.headers.replaceOrAdd(name: .wwwAuthenticate, value: "Bearer")
                return response
            }
            let publish: PublishRequest
            do {
                publish = try PublishRequest(request.body.data ?? ByteBuffer())
            } catch let error as PublishRequest.Invalid {
                count("invalid")
                return Response.problem(error.status, error.reason)
            } catch {
                count("invalid")
                return Response.problem(.badRequest, "The body is not JSON")
            }
            do {
                let record = try await record(publish.apiID)
                let appended = try await streams.store.append(
                    NewStreamMessage(
                        apiID: record.apiID, stream: publish.stream, body: publish.payload.bytes, idempotencyKey: publish.idempotencyKey,
                        publishedAt: Date(), claimedUntil: nil))
                wakeDeliveryWorker()
                count(appended.duplicate ? "duplicate" : "accepted")
                let response = Response(status: .accepted, body: .init(data: try Payload.sortedKeysEncoder.encode(Accepted(appended))))
                response.headers.contentType = .json
                return response
            } catch let error as GatewaySendError {
                count("invalid")
                return Response.problem(.badRequest, error.description)
            } catch {
                count("unavailable")
                request.logger.error("a publish could not be committed", metadata: ["apigw.error": "\(error)"])
                return Response.problem(.serviceUnavailable, "The message could not be stored: try again")
            }
        }
    }
}

/// What `POST /ws/publish` answers: the message's stream and position.
private struct Accepted: Encodable {
    let channel: String?
    let user: String?
    let offset: Int
    let epoch: String
    let duplicate: Bool

    init(_ appended: Appended) {
        channel = appended.message.stream.channel?.rawValue
        user = appended.message.stream.userID
        offset = appended.message.position.offset
        epoch = appended.message.position.epoch
        duplicate = appended.duplicate
    }
}

/// A publish request's body, checked: one stream, an object payload of at most 128 KiB, a key of
/// at most 255 characters.
struct PublishRequest {
    struct Invalid: Error {
        let status: HTTPResponseStatus
        let reason: String
    }

    let stream: StreamID
    let payload: Payload
    let idempotencyKey: String?
    let apiID: APIID?

    init(_ body: ByteBuffer) throws {
        guard let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
            throw Invalid(status: .badRequest, reason: "The body must be a JSON object")
        }
        switch (object["channel"], object["user"]) {
        case (let channel as String, nil):
            guard let name = try? ChannelName(channel) else { throw Invalid(status: .badRequest, reason: "'channel' is not a channel name") }
            stream = .channel(name)
        case (nil, let user as String) where !user.isEmpty && user.utf8.count <= 255:
            stream = .user(user)
        default:
            throw Invalid(status: .badRequest, reason: "Name one stream: 'channel' (a channel name) or 'user' (a user id)")
        }
        guard let payload = object["payload"] as? [String: Any] else {
            throw Invalid(status: .badRequest, reason: "'payload' must be a JSON object")
        }
        let bytes = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys, .withoutEscapingSlashes])
        do {
            self.payload = try Payload(bytes: ByteBuffer(data: bytes))
            // With its channel, offset and epoch added it must still fit in one post.
            try StreamMessage.check(self.payload, for: stream)
        } catch {
            throw Invalid(status: .payloadTooLarge, reason: "'payload' is over API Gateway's 128 KiB with its position")
        }
        switch object["idempotencyKey"] {
        case nil: idempotencyKey = nil
        case let key as String where !key.isEmpty && key.utf8.count <= 255: idempotencyKey = key
        default: throw Invalid(status: .badRequest, reason: "'idempotencyKey' must be a string of 1 to 255 bytes")
        }
        switch object["apiId"] {
        case nil: apiID = nil
        case let id as String:
            guard let parsed = try? APIID(id) else { throw Invalid(status: .badRequest, reason: "'apiId' is not an API id") }
            apiID = parsed
        default: throw Invalid(status: .badRequest, reason: "'apiId' must be a string")
        }
    }
}
