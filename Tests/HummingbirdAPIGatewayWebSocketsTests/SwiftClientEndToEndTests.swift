import APIGatewayAWS
import APIGatewayLocal
import APIGatewayWebSockets
import APIGatewayWebSocketsClient
import APIGatewayWebSocketsTesting
import Foundation
import Hummingbird
import HummingbirdAPIGatewayWebSockets
import Logging
import PeerSupport
import ServiceLifecycle
import Synchronization
import Testing

/// The Swift client for real: a Hummingbird app with streams behind the local gateway and a Swift
/// authorizer. The client logs in with a token, joins a room, gets a typed answer and a typed
/// refusal, is cut by the backend, and resumes without losing or repeating a message.
@Suite struct SwiftClientEndToEndTests {
    struct Room: WebSocketController {
        let routeKey = RouteKey.default
        struct Say: Codable, Sendable { let channel: String; let text: String }
        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.addChannelHandlers()
            handlers.onRaw("whoami") { _, context in
                try await context.reply(["user": context.session.userID ?? "", "connectionId": context.session.connectionID.rawValue])
            }
            handlers.onRaw("moderate", requires: .permission("moderate")) { _, context in try await context.reply(["ok": true]) }
            handlers.on("say", Say.self) { say, context in
                try await context.send(["text": say.text], to: .channel(try ChannelName(say.channel)))
                try await context.reply(["said": true])
            }
        }
    }

    struct WhoAmI: Decodable { let user: String; let connectionId: String }
    struct Said: Decodable { let said: Bool }
    struct Text: Decodable { let text: String }

    @Test func aSwiftProgramJoinsRequestsIsCutAndResumesWithoutLoss() async throws {
        let authorizer = try await AuthorizerServer { request in
            guard let token = request.queryParameter("token"), token.hasSuffix("-token") else { return .unauthorized }
            return .allow(principalID: String(token.dropLast("-token".count)))
        }
        let local = LocalGateway(configuration: LocalGatewayConfiguration(port: 0))
        try await local.start()
        let endpoint = try ManagementEndpoint(url: "http://127.0.0.1:\(local.port!)/client1/dev")
        let record = GatewayRecord(apiID: "client1", stage: "dev", region: "us-east-1", managementEndpoint: endpoint)
        let poster = ManagementClient(httpClient: .shared, credentials: StaticCredentialProvider(LocalGatewayConfiguration.developmentCredential))
        let dispatcher = GatewayDispatcher(
            configuration: GatewayConfiguration(secrets: ["s3cret"], streams: StreamConfiguration(), gatewayIdentity: .authorizerPrincipal()),
            store: InMemoryConnectionStore(), gateways: CachedGatewayDirectory([record]), poster: poster,
            permissions: GatewayIdentityEndToEndTests.Roles())
        let door = HummingbirdWebSocketGateway<BasicRequestContext>(dispatcher: dispatcher)
        let router = Router()
        try door.register(Room(), on: router)
        let (ports, port) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { port.yield($0.localAddress?.port ?? 0) })
        let group = ServiceGroup(services: [app], logger: Logger(label: "swift-client"))
        let serving = Task { try await group.run() }
        var bound = ports.makeAsyncIterator()
        let appPort = try #require(await bound.next())
        var api = LocalDeclaration(apis: [
            .init(
                apiId: "client1", stages: ["dev"],
                routes: [
                    "$connect": "http://127.0.0.1:\(appPort)/ws/connect", "$disconnect": "http://127.0.0.1:\(appPort)/ws/disconnect",
                    "$default": "http://127.0.0.1:\(appPort)/ws/default",
                ],
                requestParameters: GatewayIdentity.authorizerPrincipal().requestParameters(secret: "s3cret").merging([
                    "integration.request.header.connectionId": "context.connectionId",
                    "integration.request.header.X-Ws-Gateway-Secret": "'s3cret'",
                ]) { $1 })
        ]).localAPIs()[0]
        api.authorizers = ["auth1": LocalAuthorizer(authorizerId: "auth1", name: "tokens", authorizerUri: authorizer.url, identitySource: ["route.request.querystring.token"])]
        let connectID = try #require(api.routes.values.first { $0.routeKey == "$connect" }?.routeId)
        api.routes[connectID]?.authorizationType = "CUSTOM"
        api.routes[connectID]?.authorizerId = "auth1"
        try local.register(api)
        let url = try #require(URL(string: "ws://127.0.0.1:\(local.port!)/client1/dev"))

        func client(_ user: String) -> GatewayClient {
            GatewayClient(
                url: url,
                configuration: .init(
                    // `token`, not the framework's `ws_token`: this token is the authorizer's, not a one-time token.
                    token: { "\(user)-token" }, tokenParameter: "token", channels: ["lobby"], requestTimeout: .seconds(30), heartbeatAction: nil,
                    initialBackoff: .milliseconds(20), maximumBackoff: .milliseconds(200), maximumFailedConnects: 10,
                    handshakeTimeout: .seconds(5)))
        }
        let alice = client("alice"), bob = client("bob")
        try await alice.connect()
        try await bob.connect()
        let me = try await alice.request(["action": "whoami"], as: WhoAmI.self)
        #expect(me.user == "alice")
        let refusal = await #expect(throws: GatewayRefusal.self) { try await bob.request(["action": "moderate"], as: Said.self) }
        #expect(refusal?.status == 403)

        // What alice hears, as it comes (waits below are bounded).
        let heard = Mutex<[String]>([])
        let listening = Task {
            for await message in alice.messages { if let text = try? message.decode(Text.self) { heard.withLock { $0.append(text.text) } } }
        }
        for text in ["one", "two"] {
            #expect(try await bob.request(["action": "say", "channel": "lobby", "text": text], as: Said.self).said)
        }
        #expect(await eventually(timeout: .seconds(20)) { heard.withLock { $0.count } >= 2 })
        #expect(heard.withLock { $0 } == ["one", "two"])

        // The backend cuts alice; while she is away two more are said; she resumes and hears each once.
        _ = try await poster.close(try ConnectionID(me.connectionId), on: record)
        for text in ["three", "four"] {
            _ = try await bob.request(["action": "say", "channel": "lobby", "text": text], as: Said.self)
        }
        #expect(await eventually(timeout: .seconds(20)) { heard.withLock { $0.count } >= 4 })
        try await Task.sleep(for: .milliseconds(100))  // a duplicate would come right behind
        #expect(heard.withLock { $0 } == ["one", "two", "three", "four"], "nothing lost, nothing twice")
        #expect(await alice.connects >= 2, "reconnected after the cut")
        let after = try await alice.request(["action": "whoami"], as: WhoAmI.self)
        #expect(after.user == "alice" && after.connectionId != me.connectionId)
        #expect(await alice.position(of: "lobby")?.offset == 4)

        await alice.close()
        await bob.close()
        await listening.value
        await group.triggerGracefulShutdown()
        try await serving.value
        try await local.stop()
        try await authorizer.close()
    }
}
