import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import NIOCore
import Testing

/// AddingARoute.md, "Two-way: the reply in the response": the reply is the response's body.
@Test func aTwoWayRoutesReplyIsTheResponse() async throws {
    let poster = RecordingPoster()
    let apiID: APIID = "abc123defg"
    let dispatcher = GatewayDispatcher(
        store: InMemoryConnectionStore(), gateways: CachedGatewayDirectory([GatewayRecord(apiID: apiID, stage: "test", region: "eu-west-1")]),
        poster: poster)
    _ = try dispatcher.register(NotificationsDispatcherTests.Lobby())
    _ = try dispatcher.register(ProfileController())
    #expect(dispatcher.routes.first { $0.routeKey == "profile" }?.twoWay == true)
    let client = try await FakeAPIGateway(apiID: apiID, routes: dispatcher.routes, transport: DispatcherTransport(dispatcher: dispatcher))
        .connect()
    let response = try await client.send(#"{"action":"profile"}"#)
    #expect(String(buffer: response.body) == #"{"user":"anonymous"}"#)
    #expect(poster.posts.isEmpty)
}
