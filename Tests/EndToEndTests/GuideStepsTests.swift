import APIGatewayAWS
import APIGatewayProvisioning
import APIGatewayWebSockets
import ChatApp
import Fluent
import FluentSQLiteDriver
import Foundation
import PeerSupport
import Synchronization
import Testing
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

@testable import APIGatewayLocal

/// The guide's last steps, "register the route with API Gateway" and "test the route": routes
/// declared in code are planned and applied to the local gateway, and a WebSocket client reaches
/// them; a new controller's route goes live the same way.
/// The guide's `$default` controller: anyone may connect, and every message is echoed.
struct GuideDefault: WebSocketController {
    let routeKey = RouteKey.default
    func handlers(_ handlers: inout HandlerRegistry) {
        handlers.onRaw(HandlerRegistry.defaultName) { body, context in try await context.reply(["echo": String(buffer: body)]) }
    }
}

@Suite(.serialized) struct ProvisioningTests {
    let credential = LocalGatewayConfiguration.developmentCredential
    let secret = "provisioning-secret"

    /// A live backend on port 0 with `controllers`, sessions in `database`.
    func backend(_ database: String, controllers: [any WebSocketController], gatewayPort: Int) async throws -> (
        Application, WebSocketGateway, String
    ) {
        let app = try await Application.make(.testing)
        app.databases.use(.sqlite(.file(database)), as: .sqlite)
        app.migrations.add(WebSocketMigrations.all)
        try await app.autoMigrate()
        let http = ManagementClient.makeHTTPClient()
        let poster = ManagementClient(httpClient: http, credentials: StaticCredentialProvider(credential))
        let ws = WebSocketGateway(app: app, configuration: GatewayConfiguration(secrets: [secret]), poster: poster)
        for controller in controllers {
            try ws.register(controller, at: controller.routeKey == .default ? nil : "/websockets/\(controller.routeKey)/")
        }
        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = 0
        try await app.server.start(address: nil)
        app.lifecycle.use(Shutdown(client: http))
        return (app, ws, "http://127.0.0.1:\(app.http.server.shared.localAddress!.port!)")
    }

    struct Shutdown: LifecycleHandler {
        let client: HTTPClient
        func shutdownAsync(_ application: Application) async { try? await client.shutdown() }
    }

    func stop(_ app: Application) async throws {
        await app.server.shutdown()
        try await app.asyncShutdown()
    }

    /// The guide's steps through the `gateway` command: configure, plan, apply (which records the
    /// API so its events are accepted), test the route with a WebSocket client; then a new
    /// controller, plan, apply, and its route is live.
    @Test func planApplyAndTestARouteThenAddOne() async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("prov-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) } }
        let gateway = LocalGateway(configuration: LocalGatewayConfiguration(port: 0))
        try await gateway.start()
        /// `App gateway <command> --gateway chat`, parsed by Vapor, against the local gateway.
        func command(_ app: Application, _ action: String, publicURL: String? = nil) async throws -> String {
            var line = ["App", "gateway", action, "--gateway", "chat"]
            if let publicURL { line += ["--public-url", publicURL, "--stage", "dev"] }
            if action != "configure" { line += ["--endpoint", "http://127.0.0.1:\(gateway.port!)"] }
            let console = RecordingConsole()
            var context = CommandContext(console: console, input: CommandInput(arguments: line))
            context.application = app
            try await console.run(
                AsyncCommands(commands: ["gateway": GatewayCommands(credentials: StaticCredentialProvider(credential))]).group(),
                with: context)
            return console.text.hasSuffix("\n") ? String(console.text.dropLast()) : console.text
        }

        // 1. The app with its $default controller only: configure, plan from nothing, apply.
        let (app1, _, base1) = try await backend(database, controllers: [GuideDefault()], gatewayPort: gateway.port!)
        _ = try await command(app1, "configure", publicURL: base1)
        let plan1 = try await command(app1, "plan")
        #expect(plan1.contains("+ create WebSocket API 'chat'") && plan1.contains("+ $connect: integration POST \(base1)/ws/connect"))
        #expect(try await command(app1, "apply").contains("Applied: API"))
        let apiId = try #require(gateway.currentAPIs.first?.apiId)
        #expect(try await command(app1, "plan") == "No changes: API Gateway matches the app's routes.")

        // 2. Test the route: a WebSocket client through the gateway; `notifications` has no route yet.
        let first = try await TestClient.connect("ws://127.0.0.1:\(gateway.port!)/\(apiId)/dev?channel=lobby")
        try await first.send(#"{"action":"notifications","handler":"subscribe","topic":"t"}"#)
        #expect(await first.next()?.contains(#""echo""#) == true, "without its route, the message falls back to $default")
        try await first.close()
        try await stop(app1)

        // 3. Add the controller with the new route key (the backend also moved); plan shows it; apply makes it live.
        let (app2, _, base2) = try await backend(
            database, controllers: [GuideDefault(), NotificationsController()], gatewayPort: gateway.port!)
        _ = try await command(app2, "configure", publicURL: base2)
        let plan2 = try await command(app2, "plan")
        #expect(plan2.contains("+ notifications: integration POST \(base2)/websockets/notifications/"))
        #expect(plan2.components(separatedBy: ": integration → POST \(base2)").count == 4, "the backend moved: three URIs change")
        _ = try await command(app2, "apply")
        let second = try await TestClient.connect("ws://127.0.0.1:\(gateway.port!)/\(apiId)/dev?channel=lobby")
        try await second.send(#"{"action":"notifications","handler":"subscribe","topic":"t"}"#)
        #expect(await second.next() == #"{"subscribed":"t"}"#)
        try await second.close()
        #expect(try await command(app2, "plan") == "No changes: API Gateway matches the app's routes.")
        #expect(gateway.currentAPIs.count == 1)
        try await stop(app2)
        try await gateway.stop()
    }

    /// An apply interrupted after each step resumes, from what then exists, to the same final
    /// state, with no duplicate routes or integrations.
    @Test func interruptedApplyResumesWithoutDuplicates() async throws {
        let routes = [
            RegisteredRoute.testing(.connect, "/ws/connect"), .testing(.disconnect, "/ws/disconnect"),
            .testing(.default, "/ws/default"), .testing(RouteKey("notifications"), "/websockets/notifications/"),
        ]
        let desired = DesiredAPI(
            name: "resumable", stage: "dev", routes: routes, publicBaseURL: "http://127.0.0.1:9", secret: "s",
            twoWayRouteKeys: [RouteKey("notifications")])
        let total = try Planner.plan(desired, existing: nil).steps.count
        for failAt in 1..<total {
            let gateway = LocalGateway(configuration: LocalGatewayConfiguration(port: 0))
            try await gateway.start()
            let client = ControlPlaneClient(
                httpClient: .shared, credentials: StaticCredentialProvider(credential), region: "us-east-1",
                endpoint: "http://127.0.0.1:\(gateway.port!)")
            struct Interrupted: Error {}
            let done = Atomic<Int>(0)
            let recordedAPI = Mutex<APIID?>(nil)
            await #expect(throws: Interrupted.self) {
                try await Planner.apply(try Planner.plan(desired, existing: nil), client: client) { _, progress in
                    recordedAPI.withLock { $0 = progress.apiID }
                    if done.wrappingAdd(1, ordering: .relaxed).newValue == failAt { throw Interrupted() }
                }
            }
            let apiId = try #require(recordedAPI.withLock { $0 })
            let resumed = try Planner.plan(desired, existing: try await ExistingAPI.read(apiId, stage: "dev", client: client))
            try await Planner.apply(resumed, client: client)
            let final = try await ExistingAPI.read(apiId, stage: "dev", client: client)
            #expect(
                final.routes.compactMap(\.routeKey).sorted() == ["$connect", "$default", "$disconnect", "notifications"],
                "after step \(failAt)")
            #expect(final.integrations.count == 4, "no orphaned or duplicate integrations after step \(failAt)")
            #expect(final.stage?.deploymentId != nil)
            #expect(try Planner.plan(desired, existing: final).isEmpty, "after step \(failAt)")
            #expect(gateway.currentAPIs.count == 1)
            try await gateway.stop()
        }
    }
}

extension RegisteredRoute {
    static func testing(_ key: RouteKey, _ path: String) -> RegisteredRoute {
        RegisteredRoute(routeKey: key, path: path, event: key == .connect ? .connect : key == .disconnect ? .disconnect : .message)
    }
}
