import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import FluentSQLiteDriver
import Testing
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

@Suite struct NotificationsTests {
    /// The app's `$default` controller: `$connect` lands here.
    struct Lobby: WebSocketController {
        let routeKey = RouteKey.default
        func handlers(_ handlers: inout HandlerRegistry) {}
    }

    @Test func subscribingJoinsTheTopic() async throws {
        let app = try await Application.make(.testing)
        do {
            app.databases.use(.sqlite(.memory), as: .sqlite)
            app.migrations.add(WebSocketMigrations.all)
            try await app.autoMigrate()
            let poster = RecordingPoster()
            let apiID: APIID = "abc123defg"
            let gateway = WebSocketGateway(app: app, configuration: GatewayConfiguration(secrets: ["test-secret"]), poster: poster)
            try gateway.register(Lobby())
            try gateway.register(NotificationsController(), at: "/websockets/notifications/")
            try await gateway.registerGateway(GatewayRecord(apiID: apiID, stage: "test", region: "eu-west-1"))

            let fake = try FakeAPIGateway(app: app, apiID: apiID, secret: "test-secret")
            let client = try await fake.connect(query: ["channel": "lobby"])
            #expect(client.isAccepted)
            try await client.send(#"{"action":"notifications","handler":"subscribe","topic":"deploys"}"#)
            #expect(poster.texts(to: client.id) == [#"{"topic":"deploys","type":"subscribed"}"#])
            let topic = try await gateway.dispatcher.channels.count(of: "topic-deploys", apiID: apiID)
            #expect(topic.connections == 1)
            try await client.disconnect()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}
