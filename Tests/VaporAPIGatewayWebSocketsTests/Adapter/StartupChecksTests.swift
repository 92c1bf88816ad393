import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Testing
import Vapor
import VaporAPIGatewayWebSockets

/// Configuration errors stop the boot with a named code and a fix; the rest are warnings.
@Suite struct StartupChecksTests {
    struct Members: WebSocketController {
        let routeKey = RouteKey.default
        var requirement: Requirement? { .authenticated }
        func handlers(_ handlers: inout HandlerRegistry) {}
    }

    func codes(
        _ environment: Environment, _ configuration: GatewayConfiguration, login: Bool = false, controllers: [any WebSocketController] = []
    )
        async throws -> [String]
    {
        let app = try await Application.make(environment)
        let authentication = login ? ConnectAuthentication(middleware: []) { _ in nil } : nil
        let gateway = WebSocketGateway(
            app: app, configuration: configuration, store: InMemoryConnectionStore(), poster: RecordingPoster(),
            authentication: authentication)
        for controller in controllers { try gateway.register(controller) }
        let found = gateway.startupChecks(environment: environment).map(\.code)
        try await app.asyncShutdown()
        return found
    }

    @Test func productionStopsOnErrorsElsewhereWarns() async throws {
        #expect(try await codes(.production, GatewayConfiguration()) == ["apigw.E001"])
        #expect(try await codes(.development, GatewayConfiguration()) == ["apigw.W001"])
        #expect(try await codes(.production, GatewayConfiguration(secrets: ["short"])) == ["apigw.W002"])
        #expect(try await codes(.production, GatewayConfiguration(secrets: ["a-secret-of-enough-length"]), login: true) == ["apigw.E002"])
        var origins = GatewayConfiguration(secrets: ["a-secret-of-enough-length"])
        origins.allowedOrigins = ["chat.example.com"]
        #expect(try await codes(.production, origins, login: true).isEmpty)
        #expect(try await codes(.testing, origins, controllers: [Members()]) == ["apigw.W004"])
    }

    @Test func anErrorStopsTheBoot() async throws {
        let app = try await Application.make(.production)
        _ = WebSocketGateway(app: app, store: InMemoryConnectionStore(), poster: RecordingPoster())
        let error = await #expect(throws: StartupCheckError.self) { try await app.asyncBoot() }
        #expect(error?.description.hasPrefix("apigw.E001 no gateway secret") == true, "\(String(describing: error))")
        try await app.asyncShutdown()
    }
}
