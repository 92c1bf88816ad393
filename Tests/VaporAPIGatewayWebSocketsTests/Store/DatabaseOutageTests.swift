import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import FluentPostgresDriver
import Foundation
import PeerSupport
import SQLKit
import Testing
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

/// The database goes away: events are answered 503 at once (never a hang up to API Gateway's
/// 29 s), and when it comes back they are answered again, without a restart.
@Suite struct DatabaseOutageTests {
    struct Anyone: WebSocketController {
        let routeKey = RouteKey.default
        func handlers(_ handlers: inout HandlerRegistry) { handlers.onRaw("default") { _, _ in } }
    }

    @Test func anOutageIsAFast503AndTheReturnIsServedWithoutARestart() async throws {
        guard let url = PostgresPeer.require(), let components = URLComponents(string: url), let port = components.port else { return }
        let relay = TCPRelay(targetPort: port)
        try await relay.start()
        var relayed = components
        relayed.port = relay.port
        let schema = "outage_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        var configuration = try SQLPostgresConfiguration(url: relayed.string!)
        configuration.searchPath = [String(schema)]
        let app = try await Application.make(.testing)
        app.databases.use(
            .postgres(configuration: configuration, maxConnectionsPerEventLoop: 2, connectionPoolTimeout: .seconds(2)), as: .psql)
        do {
            try await (app.db as! any SQLDatabase).raw("CREATE SCHEMA \(ident: String(schema))").run()
            app.migrations.add(WebSocketMigrations.all)
            try await app.autoMigrate()
            let gateway = WebSocketGateway(app: app, configuration: GatewayConfiguration(secrets: ["s3cret"]), poster: RecordingPoster())
            try gateway.register(Anyone())
            let api: APIID = "outageapi"
            try await gateway.registerGateway(GatewayRecord(apiID: api, stage: "dev", region: "us-east-1"))
            let fake = try FakeAPIGateway(app: app, apiID: api, stage: "dev", secret: "s3cret")
            let connection = try await fake.connect()
            #expect(connection.isAccepted)
            #expect(try await connection.send("before").status == .ok)

            await relay.stop()
            for _ in 0..<3 {
                let started = ContinuousClock.now
                let during = try await connection.send("during")
                let elapsed = started.duration(to: .now)
                #expect(
                    during.status == .serviceUnavailable && String(buffer: during.body).contains("Service unavailable"), "\(during.status)")
                #expect(elapsed < .seconds(20), "answered in \(elapsed), not left hanging (the pool times out at 2 s; API Gateway gives up at 29)")
            }
            #expect(try await fake.connect().connectResponse.status == .serviceUnavailable, "a connect too")

            try await relay.start()
            #expect(
                await eventually(timeout: .seconds(15)) { (try? await connection.send("after").status) == .ok },
                "served again once the database is back, without a restart")
            try await (app.db as! any SQLDatabase).raw("DROP SCHEMA \(ident: String(schema)) CASCADE").run()
            try await app.asyncShutdown()
            await relay.stop()
        } catch {
            await relay.stop()
            try? await app.asyncShutdown()
            throw error
        }
    }
}
