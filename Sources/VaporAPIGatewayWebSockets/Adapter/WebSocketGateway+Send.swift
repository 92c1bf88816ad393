public import APIGatewayWebSockets
public import Vapor

extension WebSocketGateway {
    /// Sends `message`, encoded as JSON, to `audience` from anywhere in the app (a route, a job, a
    /// command), without reaching through the dispatcher: through the API `apiID`, or the one
    /// registered API when there is only one.
    ///
    /// ```swift
    /// struct Announcement: Encodable, Sendable { let type = "announcement"; let text: String }
    /// let report = try await gateway.send(Announcement(text: "Back in 5"), to: .everyone)
    /// ```
    /// With streams on, a send to a channel or a user is published into its stream
    /// (`publish(_:to:idempotencyKey:on:)`) and arrives with its position.
    /// - Returns: who it reached, who was gone, who failed and why.
    /// - Throws: `GatewaySendError` when no API, or more than one and none named, is registered;
    ///   `MessagingError` for a payload over API Gateway's 128 KiB.
    @discardableResult
    public func send(_ message: some Encodable & Sendable, to audience: Audience, on apiID: APIID? = nil) async throws
        -> DeliveryReport
    {
        try await send(try Payload(json: message), to: audience, on: try await record(apiID))
    }

    private func send(_ payload: Payload, to audience: Audience, on record: GatewayRecord) async throws -> DeliveryReport {
        if let streams = dispatcher.streams, let stream = StreamID(audience) {
            return try await streams.publish(payload, to: stream, on: record).report ?? DeliveryReport()
        }
        return try await dispatcher.messenger.send(payload, to: audience, on: record)
    }

    /// Sends `text` as it is (a text frame) to `audience`; see ``send(_:to:on:)``.
    @discardableResult
    public func send(text: String, to audience: Audience, on apiID: APIID? = nil) async throws -> DeliveryReport {
        try await send(try Payload(text: text), to: audience, on: try await record(apiID))
    }

    /// The API `apiID`, or the one registered API (see `CachedGatewayDirectory.record(for:cached:)`).
    func record(_ apiID: APIID?, cached: Bool = false) async throws -> GatewayRecord {
        try await directory.record(for: apiID, cached: cached)
    }
}

extension Request {
    /// The app's ``WebSocketGateway``, to send from a route: `try await req.webSocketGateway?.send(…)`.
    public var webSocketGateway: WebSocketGateway? { application.webSocketGateway }
}
