import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import ChatApp
import Foundation
import HTTPTypes
import NIOCore
import PeerSupport
import Testing
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

/// Sending from outside a handler: `gateway.send(_:to:)` and `req.webSocketGateway`.
@Suite struct SendFromAppTests {
    struct Announcement: Encodable, Sendable {
        let type = "announcement"
        let text: String
    }

    @Test func theAppSendsToAnAudienceWithoutTheDispatcher() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let poster = RecordingPoster()
        try await withChatApp(path: database.path, poster: poster) { app, gateway in
            let fake = try FakeAPIGateway(app: app, apiID: ChatSettings().gateway.apiID, stage: "local", secret: ChatSettings().secret)
            let ada = try await fake.connect(query: ["channel": "lobby"], headers: try await ChatBrowser(app: app).connectHeaders("ada"))
            let bob = try await fake.connect(query: ["channel": "games"], headers: try await ChatBrowser(app: app).connectHeaders("bob"))
            poster.reset()
            let report = try await gateway.send(Announcement(text: "Back in 5"), to: .channel(ChannelName("lobby")))
            #expect(report.sent == 1)
            // A channel's stream: the position first, then the app's keys, byte for byte.
            let sent = try #require(poster.texts(to: ada.id).first)
            #expect(poster.texts(to: ada.id).count == 1 && sent.hasPrefix(#"{"channel":"lobby","offset":1,"epoch":""#), "\(sent)")
            #expect(sent.hasSuffix(#"","text":"Back in 5","type":"announcement"}"#), "\(sent)")
            #expect(poster.texts(to: bob.id).isEmpty)
            // From a route, through the request.
            app.post("announce") { request async throws -> String in
                let sent = try await request.webSocketGateway?.send(text: "plain", to: .everyone).sent ?? -1
                return "\(sent)"
            }
            let answer = try await InProcessTransport(app: app).send(GatewayRequest(method: .post, path: "/announce"))
            #expect(String(buffer: answer.body) == "2")
            #expect(poster.texts(to: bob.id) == ["plain"])
            await #expect(throws: GatewaySendError.self) { try await gateway.send(text: "x", to: .everyone, on: APIID("nosuchapi")) }
        }
    }
}
