import APIGatewayWebSockets
import Fluent
import Logging
import ServiceLifecycle
import Vapor
import VaporAPIGatewayWebSockets

/// APIGatewayWebSockets.docc/NothingLostAcrossAReconnect.md and VaporAPIGatewayWebSockets.docc/SendingFromAnywhere.md
/// ("Publishing after commit, from anywhere").
enum StreamsExamples {
    static func configuration() -> GatewayConfiguration {
        var configuration = GatewayConfiguration(secrets: ["s3cret"])
        configuration.streams = StreamConfiguration(retention: StreamRetention(messages: 1000, age: .seconds(3 * 3600)))
        return configuration
    }

    struct Deploy: Decodable, Sendable {
        let id: String
        let text: String
    }

    struct Notice: Encodable, Sendable {
        var type = "notice"
        let text: String
    }

    struct OpsController: WebSocketController {
        let routeKey = RouteKey.default

        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.on("deploy", Deploy.self, requires: .permission(.staff)) { deploy, context in
                let publication = try await context.publish(Notice(text: deploy.text), to: .channel("ops"), idempotencyKey: deploy.id)
                try await context.reply(["offset": publication.position.offset])
            }
        }
    }

    static func worker(dispatcher: GatewayDispatcher, logger: Logger) -> ServiceGroup {
        let worker = DeliveryWorker(streams: dispatcher.streams!, logger: logger)
        let group = ServiceGroup(services: [worker], logger: logger)
        return group
    }

    final class Order: Model, @unchecked Sendable {
        static let schema = "orders"
        @ID(key: .id) var id: UUID?
        @Field(key: "customer") var customer: String
        init() {}
    }

    struct OrderPlaced: Encodable, Sendable {
        var type = "order-placed"
        let id: UUID?
    }

    static func publishing(gateway: WebSocketGateway, order: Order) async throws {
        // In a transaction of the app's: delivered once it commits, never if it rolls back.
        try await gateway.transaction { database in
            try await order.save(on: database)
            try await gateway.publish(OrderPlaced(id: order.id), to: .user(order.customer), idempotencyKey: "order-\(order.id!)", in: database)
        }

        // Directly: appended, delivered, marked delivered; a repeated key delivers nothing again.
        let publication = try await gateway.publish(Notice(text: "Back in 5"), to: .channel("lobby"), idempotencyKey: "notice-42")
        _ = publication
    }

    static func endpoint(gateway: WebSocketGateway, secret: String) throws {
        try gateway.servePublishing(key: secret)
    }
}
