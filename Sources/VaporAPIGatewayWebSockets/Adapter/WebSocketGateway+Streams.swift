import APIGatewayAWS
public import APIGatewayWebSockets
public import FluentKit
import Metrics
import Vapor

extension WebSocketGateway {
    /// The gateway's streams.
    /// - Throws: `StreamError.off` when `GatewayConfiguration.streams` is not set.
    public func streams() throws -> Streams {
        guard let streams = dispatcher.streams else { throw StreamError.off }
        return streams
    }

    /// Publishes `message`, encoded as a JSON object, into `stream` and delivers it at once with its
    /// position, from anywhere in the app (a route, a job, a command); through the API `apiID`, or
    /// the one registered API. A repeated `idempotencyKey` delivers nothing again and answers the
    /// first publish's position.
    ///
    /// ```swift
    /// let publication = try await gateway.publish(Note(text: "Back in 5"), to: .channel("lobby"))
    /// ```
    @discardableResult
    public func publish(_ message: some Encodable & Sendable, to stream: StreamID, idempotencyKey: String? = nil, on apiID: APIID? = nil)
        async throws -> Publication
    {
        try await streams().publish(try Payload(json: message), to: stream, on: try await record(apiID), idempotencyKey: idempotencyKey)
    }

    /// Publishes `message` into `stream` as part of `database`, a transaction of the app's (see
    /// ``transaction(_:)``): it is delivered by the delivery worker once that transaction commits,
    /// and never when it rolls back. Answers its position (the first publish's for a repeated
    /// `idempotencyKey`). The stream's next offset is held until the transaction ends, so other
    /// publishes to the same stream wait for it: keep such transactions short. Everything inside
    /// must go through `database` (on SQLite it holds the one connection).
    ///
    /// ```swift
    /// try await gateway.transaction { database in
    ///     try await order.save(on: database)
    ///     try await gateway.publish(OrderPlaced(order), to: .user(order.customer), in: database)
    /// }
    /// ```
    @discardableResult
    public func publish(
        _ message: some Encodable & Sendable, to stream: StreamID, idempotencyKey: String? = nil, in database: any Database,
        on apiID: APIID? = nil
    ) async throws -> Publication {
        try await publish(try Payload(json: message), to: stream, idempotencyKey: idempotencyKey, in: database, on: apiID)
    }

    /// `publish(_:to:idempotencyKey:in:on:)` with a payload that is already bytes (a JSON object).
    @discardableResult
    public func publish(_ payload: Payload, to stream: StreamID, idempotencyKey: String? = nil, in database: any Database, on apiID: APIID? = nil)
        async throws -> Publication
    {
        let streams = try streams()
        guard let store = streams.store as? FluentConnectionStore else {
            throw StreamError(description: "publishing in a transaction needs the database store (FluentConnectionStore)")
        }
        try StreamMessage.check(payload, for: stream)
        // From the cache: a query outside `database` would wait for the connection it holds (SQLite's only one).
        let record = try await record(apiID, cached: true)
        let appended = try await store.append(
            NewStreamMessage(
                apiID: record.apiID, stream: stream, body: payload.bytes, idempotencyKey: idempotencyKey, publishedAt: Date(),
                claimedUntil: nil),
            in: database)
        return Publication(position: appended.message.position, duplicate: appended.duplicate, report: nil)
    }

    /// Runs `body` in a transaction of the app's database and, once it has committed, wakes the
    /// delivery worker, so what `body` published is delivered at once rather than at the next poll.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        let result = try await database().transaction { database in try await body(database) }
        wakeDeliveryWorker()
        return result
    }

    /// Asks the delivery worker, if it runs, to look at the outbox now.
    public func wakeDeliveryWorker() {
        deliveryWorker?.wake()
    }
}
