import APIGatewayAWS
import APIGatewayLocal
import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Foundation
import Hummingbird
import HummingbirdAPIGatewayWebSockets
import Logging
import PeerSupport
import ServiceLifecycle
import Testing

/// A user API Gateway vouched for, end to end: the local gateway calls a Swift authorizer on
/// `$connect`, maps its principal into a header behind the gateway secret, and the Hummingbird
/// app's `Requirement` holds for that principal as it would for a login.
@Suite struct GatewayIdentityEndToEndTests {
    struct Roles: PermissionSource {
        func user(_ userID: String, has permission: Permission) async throws -> Bool { userID == "alice" && permission == "moderate" }
    }

    struct Room: WebSocketController {
        let routeKey = RouteKey.default
        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.onRaw("whoami") { _, context in try await context.reply(["user": context.session.userID ?? ""]) }
            handlers.onRaw("moderate", requires: .permission("moderate")) { _, context in
                try await context.reply(["moderated": context.session.userID ?? ""])
            }
        }
    }

    @Test func aRequirementHoldsForTheAuthorizersPrincipal() async throws {
        let authorizer = try await AuthorizerServer { request in
            switch request.queryParameter("token") {
            case "alice-token": .allow(principalID: "alice")
            case "bob-token": .allow(principalID: "bob")
            default: .unauthorized
            }
        }
        let local = LocalGateway(configuration: LocalGatewayConfiguration(port: 0))
        try await local.start()
        let endpoint = try ManagementEndpoint(url: "http://127.0.0.1:\(local.port!)/guarded1/dev")
        let dispatcher = GatewayDispatcher(
            configuration: GatewayConfiguration(secrets: ["s3cret"], gatewayIdentity: .authorizerPrincipal()),
            store: InMemoryConnectionStore(),
            gateways: CachedGatewayDirectory([GatewayRecord(apiID: "guarded1", stage: "dev", region: "us-east-1", managementEndpoint: endpoint)]),
            poster: ManagementClient(httpClient: .shared, credentials: StaticCredentialProvider(LocalGatewayConfiguration.developmentCredential)),
            permissions: Roles())
        let door = HummingbirdWebSocketGateway<BasicRequestContext>(dispatcher: dispatcher)
        let router = Router()
        try door.register(Room(), on: router)
        let (ports, port) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { port.yield($0.localAddress?.port ?? 0) })
        let group = ServiceGroup(services: [app], logger: Logger(label: "gateway-identity"))
        let serving = Task { try await group.run() }
        var bound = ports.makeAsyncIterator()
        let appPort = try #require(await bound.next())

        // The API: every route to the app, the secret and the principal mapped, `$connect` authorized.
        var api = LocalDeclaration(apis: [
            .init(
                apiId: "guarded1", stages: ["dev"],
                routes: [
                    "$connect": "http://127.0.0.1:\(appPort)/ws/connect", "$disconnect": "http://127.0.0.1:\(appPort)/ws/disconnect",
                    "$default": "http://127.0.0.1:\(appPort)/ws/default",
                ],
                requestParameters: [
                    "integration.request.header.connectionId": "context.connectionId",
                    "integration.request.header.X-Ws-Gateway-Secret": "'s3cret'",
                    "integration.request.header.X-Apigw-Principal": "context.authorizer.principalId",
                    "integration.request.header.X-Apigw-Identity-Mapped": "'s3cret'",
                ])
        ]).localAPIs()[0]
        api.authorizers = ["auth1": LocalAuthorizer(authorizerId: "auth1", name: "tokens", authorizerUri: authorizer.url, identitySource: ["route.request.querystring.token"])]
        let connectID = try #require(api.routes.values.first { $0.routeKey == "$connect" }?.routeId)
        api.routes[connectID]?.authorizationType = "CUSTOM"
        api.routes[connectID]?.authorizerId = "auth1"
        try local.register(api)
        let url = "ws://127.0.0.1:\(local.port!)/guarded1/dev"

        let alice = try await TestClient.connect(url + "?token=alice-token")
        try await alice.send(#"{"action":"moderate","id":"1"}"#)
        let moderated = await alice.next()
        #expect(moderated?.contains(#""moderated":"alice""#) == true, "\(String(describing: moderated))")
        // Bob is in (the authorizer allowed him), but not a moderator; a header he sends himself changes nothing.
        let bob = try await TestClient.connect(url + "?token=bob-token", headers: ["X-Apigw-Principal": "alice"])
        try await bob.send(#"{"action":"whoami"}"#)
        #expect(await bob.next() == #"{"user":"bob"}"#)
        try await bob.send(#"{"action":"moderate","id":"2"}"#)
        let refusal = try #require(await bob.next())
        #expect(refusal.contains(#""id":"2""#) && refusal.contains(#""type":"error""#), "\(refusal)")
        // Without a token the authorizer is not called and the app hears nothing.
        await #expect(throws: (any Error).self) { try await TestClient.connect(url) }
        try await alice.close()
        try await bob.close()

        await group.triggerGracefulShutdown()
        try await serving.value
        try await local.stop()
        try await authorizer.close()
    }
}
