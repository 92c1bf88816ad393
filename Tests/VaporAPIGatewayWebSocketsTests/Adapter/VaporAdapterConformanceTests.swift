import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import FluentSQLiteDriver
import Foundation
import PeerSupport
import Testing
import Vapor
import VaporAPIGatewayWebSockets

/// The Vapor door passes the adapter suite the Hummingbird door passes.
@Suite struct VaporAdapterConformanceTests {
    @Test(arguments: AdapterConformance.checks)
    func conforms(_ check: AdapterConformance.Check) async throws {
        try await check.run(Self.start)
    }

    /// A Vapor application on 127.0.0.1, port 0, serving `setup` through ``WebSocketGateway``,
    /// its gateway record in a fresh SQLite file.
    @Sendable static func start(_ setup: AdapterConformance.Setup) async throws -> AdapterConformance.Door {
        let database = TemporaryDatabase()
        let app = try await Application.make(.testing)
        do {
            app.databases.use(.sqlite(.file(database.path)), as: .sqlite)
            app.migrations.add(WebSocketMigrations.all)
            try await app.autoMigrate()
            let gateway = WebSocketGateway(
                app: app, configuration: setup.configuration, store: setup.store, poster: setup.poster,
                authentication: ConnectAuthentication(middleware: []) { request in
                    request.headers.first(name: setup.userHeader.rawName).map { AuthenticatedUser(id: $0) }
                })
            try await gateway.registerGateway(setup.gateway)
            for (controller, path) in setup.controllers { try gateway.register(controller, at: path) }
            app.http.server.configuration.hostname = "127.0.0.1"
            app.http.server.configuration.port = 0
            try await app.server.start(address: nil)
            let port = try #require(app.http.server.shared.localAddress?.port)
            return AdapterConformance.Door(baseURL: "http://127.0.0.1:\(port)", routes: gateway.registeredRoutes) {
                await app.server.shutdown()
                try await app.asyncShutdown()
                database.cleanUp()
            }
        } catch {
            try? await app.asyncShutdown()
            database.cleanUp()
            throw error
        }
    }
}
