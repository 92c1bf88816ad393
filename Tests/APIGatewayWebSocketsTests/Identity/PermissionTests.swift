import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Testing

/// Controllers and handlers require a user or permissions; refused 401 without a user, 403
/// without the permission; connects may require them too.
@Suite struct PermissionTests {
    /// ada is staff; bob holds `chat.announce`; cy holds nothing.
    struct Roles: PermissionSource {
        func user(_ userID: String, has permission: Permission) async throws -> Bool {
            switch (userID, permission) {
            case ("ada", .staff), ("bob", "chat.announce"): true
            default: false
            }
        }
    }

    struct Guarded: WebSocketController {
        var routeKey = RouteKey.default
        var requirement: Requirement? = nil
        var connectRequirement: Requirement? = nil
        func connect(_ context: ConnectContext) async throws -> ConnectDecision { .accept(userID: context.queryParameter("user")) }
        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.onRaw("default") { _, context in try await context.reply(["ok": "default"]) }
            handlers.onRaw("members", requires: .authenticated) { _, context in try await context.reply(["ok": "members"]) }
            handlers.onRaw("staff", requires: .permission(.staff)) { _, context in try await context.reply(["ok": "staff"]) }
            handlers.onRaw("announce", requires: .any(.permission(.staff), .permission("chat.announce"))) { _, context in
                try await context.reply(["ok": "announce"])
            }
            handlers.onRaw("both", requires: .all(.permission(.staff), .permission("chat.announce"))) { _, context in
                try await context.reply(["ok": "both"])
            }
        }
    }

    func statuses(_ harness: Harness, user: String?, handlers: [String]) async throws -> [Int] {
        let connection = try await harness.connected(query: user.map { ["user": $0] } ?? [:])
        var statuses: [Int] = []
        for handler in handlers { statuses.append(try await connection.send(#"{"handler":"\#(handler)"}"#).status.code) }
        return statuses
    }

    @Test func handlersRequireAUserOrPermissions() async throws {
        let harness = try Harness(controllers: [Guarded()], permissions: Roles())
        let handlers = ["default", "members", "staff", "announce", "both"]
        #expect(try await statuses(harness, user: nil, handlers: handlers) == [200, 401, 401, 401, 401])
        #expect(try await statuses(harness, user: "cy", handlers: handlers) == [200, 200, 403, 403, 403])
        #expect(try await statuses(harness, user: "ada", handlers: handlers) == [200, 200, 200, 200, 403])
        #expect(try await statuses(harness, user: "bob", handlers: handlers) == [200, 200, 403, 200, 403])
        let cy = try await harness.connected(query: ["user": "cy"])
        harness.poster.reset()
        let refused = try await cy.send(#"{"handler":"staff"}"#)
        #expect(refused.reason == "Permission denied" && harness.poster.posts.isEmpty, "the handler did not run")
    }

    @Test func aControllersRequirementCoversEveryHandler() async throws {
        let harness = try Harness(controllers: [Guarded(requirement: .authenticated)], permissions: Roles())
        #expect(try await statuses(harness, user: nil, handlers: ["default"]) == [401])
        #expect(try await statuses(harness, user: "cy", handlers: ["default", "staff"]) == [200, 403])
    }

    @Test func connectsCanRequireThemToo() async throws {
        let harness = try Harness(controllers: [Guarded(connectRequirement: .permission(.staff))], permissions: Roles())
        #expect(try await harness.gateway.connect().connectResponse.status == .unauthorized)
        #expect(try await harness.gateway.connect(query: ["user": "cy"]).connectResponse.status == .forbidden)
        #expect(try await harness.gateway.connect(query: ["user": "ada"]).isAccepted)
    }

    @Test func withoutAPermissionSourceNobodyHoldsAPermission() async throws {
        let harness = try Harness(controllers: [Guarded()])
        #expect(try await statuses(harness, user: "ada", handlers: ["members", "staff"]) == [200, 403])
    }
}

/// The user API Gateway vouched for (an authorizer's principal mapped into a header) satisfies
/// requirements as a login does, behind the gateway secret; without a secret the header proves
/// nothing and is ignored, and a connect hook's or a login's word comes first.
@Suite struct GatewayIdentityTests {
    struct Plain: WebSocketController {
        var routeKey = RouteKey.default
        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.onRaw("staff", requires: .permission(.staff)) { _, context in try await context.reply(["ok": "staff"]) }
        }
    }

    @Test func thePrincipalBehindTheSecretIsTheUser() async throws {
        let harness = try Harness(
            configuration: GatewayConfiguration(secrets: ["s3cret"], gatewayIdentity: .authorizerPrincipal()), controllers: [Plain()],
            permissions: PermissionTests.Roles())
        let ada = try await harness.gateway.connect(headers: [GatewayIdentity.defaultHeader: "ada", GatewayIdentity.proofHeader: "s3cret"])
        #expect(try await harness.store.session(ada.id)?.userID == "ada")
        #expect(try await ada.send(#"{"handler":"staff"}"#).status == .ok)
        let cy = try await harness.gateway.connect(headers: [GatewayIdentity.defaultHeader: "cy", GatewayIdentity.proofHeader: "s3cret"])
        #expect(try await cy.send(#"{"handler":"staff"}"#).status == .forbidden)
        let nobody = try await harness.gateway.connect()
        #expect(try await nobody.send(#"{"handler":"staff"}"#).status == .unauthorized)
        // Behind the secret, but from an integration that does not map the identity: the header
        // is the client's own (API Gateway forwards a `$connect` client's headers), never the user.
        let forged = try await harness.gateway.connect(headers: [GatewayIdentity.defaultHeader: "ada"])
        #expect(try await harness.store.session(forged.id)?.userID == nil)
        let wrongProof = try await harness.gateway.connect(headers: [GatewayIdentity.defaultHeader: "ada", GatewayIdentity.proofHeader: "guess"])
        #expect(try await harness.store.session(wrongProof.id)?.userID == nil)
    }

    @Test func withoutASecretTheHeaderIsIgnored() async throws {
        let harness = try Harness(
            configuration: GatewayConfiguration(gatewayIdentity: .authorizerPrincipal()), controllers: [Plain()],
            permissions: PermissionTests.Roles())
        let forged = try await harness.gateway.connect(headers: [GatewayIdentity.defaultHeader: "ada", GatewayIdentity.proofHeader: ""])
        #expect(forged.isAccepted)
        #expect(try await harness.store.session(forged.id)?.userID == nil, "nothing proves the header came from API Gateway")
        #expect(try await forged.send(#"{"handler":"staff"}"#).status == .unauthorized)
    }

    @Test func theProvisioningMappingNamesTheHeaderTheDispatcherReads() {
        #expect(GatewayIdentity.authorizerPrincipal().requestParameter == ("integration.request.header.X-Apigw-Principal", "context.authorizer.principalId"))
        #expect(
            GatewayIdentity.authorizerPrincipal().requestParameters(secret: "s3cret") == [
                "integration.request.header.X-Apigw-Principal": "context.authorizer.principalId",
                "integration.request.header.X-Apigw-Identity-Mapped": "'s3cret'",
            ])
        #expect(GatewayIdentity.authorizerContext("userId").source == "context.authorizer.userId")
        #expect(GatewayIdentity.iamCaller().source == "context.identity.userArn")
    }
}
