import APIGatewayAWS
import APIGatewayProvisioning
import APIGatewayWebSockets
import Hummingbird
import HummingbirdAPIGatewayWebSockets

/// The Hummingbird door's examples: AddingARoute.md and HummingbirdQuickStart.md.
enum HummingbirdExamples {
    /// AddingARoute.md, step 2.
    static func registerNotifications(
        gateway: HummingbirdWebSocketGateway<BasicRequestContext>, router: Router<BasicRequestContext>
    ) throws {
        try gateway.register(NotificationsController(), at: "/websockets/notifications/", on: router)
    }

    /// AddingARoute.md, step 3.
    static func applyTheRoutes(dispatcher: GatewayDispatcher, publicURL: String) async throws {
        let client = ControlPlaneClient(httpClient: .shared, credentials: CredentialProviderChain.default(), region: "eu-west-1")
        let desired = DesiredAPI(
            name: "chat", stage: "production", routes: dispatcher.routes, publicBaseURL: publicURL,
            secret: dispatcher.configuration.secrets.first)
        let plan = try Planner.plan(desired, existing: nil)  // a new API; ExistingAPI.read(_:stage:client:) reads one that exists
        print(plan)
        let applied = try await Planner.apply(plan, client: client)
        print(GatewayRecord(apiID: applied.apiID, stage: "production", region: "eu-west-1"))
    }

    /// HummingbirdQuickStart.md, logins on `$connect`.
    static func logins(dispatcher: GatewayDispatcher) -> HummingbirdWebSocketGateway<BasicRequestContext> {
        /// Bearer tokens the app issued, and whose they are.
        struct BearerLogins: Sendable {
            let users: [String: String]

            func user(_ request: Request) -> AuthenticatedUser? {
                guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return nil }
                return users[String(header.dropFirst(7))].map { AuthenticatedUser(id: $0) }
            }
        }

        let logins = BearerLogins(users: ["replace-with-a-token-your-app-issued": "ada"])
        let gateway = HummingbirdWebSocketGateway<BasicRequestContext>(dispatcher: dispatcher) { request, _ in
            logins.user(request)
        }
        return gateway
    }

    /// HummingbirdQuickStart.md, sending from outside a handler.
    static func announce(router: Router<BasicRequestContext>, dispatcher: GatewayDispatcher) {
        router.post("announce") { _, _ -> HTTPResponse.Status in
            guard let record = try await dispatcher.gateways.gateway("abc123defg") else { return .notFound }
            let report = try await dispatcher.messenger.send(try Payload(text: "Back in 5 minutes"), to: .everyone, on: record)
            return report.failedCount == 0 ? .accepted : .internalServerError
        }
    }
}
