import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Testing

@Suite struct NotificationsDispatcherTests {
    struct Lobby: WebSocketController {
        let routeKey = RouteKey.default
        func handlers(_ handlers: inout HandlerRegistry) {}
    }

    @Test func unsubscribingAnswersTheTopic() async throws {
        let poster = RecordingPoster()
        let apiID: APIID = "abc123defg"
        let dispatcher = GatewayDispatcher(
            configuration: GatewayConfiguration(secrets: ["test-secret"]),
            store: InMemoryConnectionStore(),
            gateways: CachedGatewayDirectory([GatewayRecord(apiID: apiID, stage: "test", region: "eu-west-1")]),
            poster: poster)
        _ = try dispatcher.register(Lobby())
        _ = try dispatcher.register(NotificationsController(), at: "/websockets/notifications/")

        let fake = FakeAPIGateway(
            apiID: apiID, routes: dispatcher.routes, secret: "test-secret", transport: DispatcherTransport(dispatcher: dispatcher))
        let client = try await fake.connect()
        let refused = try await client.send(#"{"action":"notifications","handler":"publish"}"#)
        #expect(refused.status == .badRequest)
        try await client.send(#"{"action":"notifications","handler":"unsubscribe","topic":"deploys"}"#)
        #expect(poster.texts(to: client.id) == [#"{"unsubscribed":"deploys"}"#])
    }
}
