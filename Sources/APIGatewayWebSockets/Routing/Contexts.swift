public import Logging
import Synchronization

/// What a connect hook knows about the connecting client.
public struct ConnectContext: Sendable {
    /// The integration request, with the client's headers and query string.
    public let request: GatewayRequest
    public let connectionID: ConnectionID
    public let gateway: GatewayRecord
    /// The channel the client asked for with `?channel=`, else the gateway's default channel.
    public let requestedChannel: ChannelName?
    /// The user a one-time token (`?ws_token=`) vouched for; the connection is theirs unless the
    /// hook names another.
    public let tokenUserID: String?
    /// The user the app's login found on this request (the adapter's authentication); the
    /// connection is theirs unless the hook names another.
    public var authenticatedUser: AuthenticatedUser? { request.authenticatedUser }
    /// The user API Gateway vouched for (``GatewayConfiguration/gatewayIdentity``, behind the
    /// secret); the connection is theirs unless the hook or the login names another.
    public let gatewayUserID: String?
    public let logger: Logger

    /// The first value of the client's query parameter `name`.
    public func queryParameter(_ name: String) -> String? { request.queryParameter(name) }
}

/// What a handler knows about the message it handles, and how it answers.
public struct MessageContext: Sendable {
    public let request: GatewayRequest
    /// The sender's live session, with the request count this message brought it to.
    public let session: Session
    public let gateway: GatewayRecord
    public let routeKey: RouteKey
    /// The handler name the message selected (`default` when it named none that exists).
    public let handlerName: String
    /// The message's `id`, when it carried a string one: ``reply(_:)-(Encodable)`` answers under it, as
    /// does a refusal of the message.
    public let requestID: String?
    /// Set once a reply went out under ``requestID``, so a later refusal is not a second answer;
    /// only a request (a message with an id) has one.
    let answered: AnswerMark?
    /// On a two-way route, the sender's first message, held for the integration response.
    let heldReply: HeldReply?
    public let messenger: Messenger
    /// Joins, leaves and presence under the gateway's channel rules.
    public let channels: Channels
    /// The gateway's streams, when they are on.
    public let streams: Streams?
    public let logger: Logger

    public var connectionID: ConnectionID { session.connectionID }

    /// Sends `value`, JSON-encoded, back to the sender; under the message's `id` when it had one
    /// (`{"id": …, …}`), so the client can match the answer to its request.
    @discardableResult
    public func reply(_ value: some Encodable) async throws -> DeliveryReport {
        try await reply(try Payload(json: value))
    }

    /// Sends `payload` back to the sender, under the message's `id` when it had one and the
    /// payload is a JSON object.
    ///
    /// On a two-way route (``WebSocketController/twoWay``) the first message to the sender is not
    /// posted: it travels in the integration response, when the handler returns. Its report counts
    /// it sent.
    @discardableResult
    public func reply(_ payload: Payload) async throws -> DeliveryReport {
        guard let requestID else { return try await send(payload, to: .connection(connectionID)) }
        let report = try await send(try payload.answering(requestID), to: .connection(connectionID))
        answered?.mark()
        return report
    }

    /// Sends `value`, JSON-encoded once, to `audience` on this API.
    @discardableResult
    public func send(_ value: some Encodable, to audience: Audience) async throws -> DeliveryReport {
        try await send(try Payload(json: value), to: audience)
    }

    /// Sends `payload` to `audience` on this API. With streams on, a send to a channel or a user
    /// is published into its stream (`publish(_:to:idempotencyKey:)`): it must be a JSON object, and
    /// arrives with its `channel` (or `user`), `offset` and `epoch`.
    @discardableResult
    public func send(_ payload: Payload, to audience: Audience) async throws -> DeliveryReport {
        if let heldReply, audience == .connection(connectionID) {
            return try await messenger.send(payload, toSender: connectionID, holding: heldReply, on: gateway)
        }
        if let streams, let stream = StreamID(audience) {
            return try await streams.publish(payload, to: stream, on: gateway).report ?? DeliveryReport()
        }
        return try await messenger.send(payload, to: audience, on: gateway)
    }

    /// Publishes `value`, JSON-encoded, into `stream` and delivers it with its position; a repeated
    /// `idempotencyKey` delivers nothing again.
    /// - Throws: ``StreamError/off`` when the gateway has no streams.
    @discardableResult
    public func publish(_ value: some Encodable, to stream: StreamID, idempotencyKey: String? = nil) async throws -> Publication {
        try await publish(try Payload(json: value), to: stream, idempotencyKey: idempotencyKey)
    }

    /// Publishes `payload` (a JSON object) into `stream`; as the `Encodable` one.
    @discardableResult
    public func publish(_ payload: Payload, to stream: StreamID, idempotencyKey: String? = nil) async throws -> Publication {
        guard let streams else { throw StreamError.off }
        return try await streams.publish(payload, to: stream, on: gateway, idempotencyKey: idempotencyKey)
    }

    /// Adds the sender to `channel`, if the channel rules let its user in; a refusal (401, 403,
    /// or too many channels) is thrown and answers the message.
    @discardableResult
    public func join(_ channel: ChannelName) async throws -> JoinOutcome {
        try await channels.join(channel, session: session)
    }

    /// Removes the sender from `channel`. Returns whether it was a member.
    @discardableResult
    public func leave(_ channel: ChannelName) async throws -> Bool {
        try await channels.leave(channel, session: session)
    }

    /// Moves the sender out of every channel and into `channel`, if the rules let it in there.
    @discardableResult
    public func changeChannel(to channel: ChannelName) async throws -> JoinOutcome {
        try await channels.change(to: channel, session: session)
    }

    /// The channels the sender is in, by name.
    public func joinedChannels() async throws -> [ChannelName] {
        try await channels.channels(of: connectionID, apiID: gateway.apiID)
    }
}

/// Whether a request was answered, shared by the copies of one ``MessageContext``.
final class AnswerMark: Sendable {
    private let value = Atomic<Bool>(false)
    func mark() { value.store(true, ordering: .relaxed) }
    var isMarked: Bool { value.load(ordering: .relaxed) }
}

/// What a disconnect hook knows about the closed connection.
public struct DisconnectContext: Sendable {
    public let request: GatewayRequest
    public let connectionID: ConnectionID
    public let gateway: GatewayRecord
    /// The session as it was before the disconnect, when the store knew it.
    public let session: Session?
    public let messenger: Messenger
    public let logger: Logger
}
