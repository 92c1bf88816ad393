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

    struct Announcer: WebSocketController {
        let routeKey = RouteKey.default
        func handlers(_ handlers: inout HandlerRegistry) { handlers.onRaw("announce", requires: .permission(.staff)) { _, _ in } }
    }

    enum Login { case none, withSessions, withoutSessions }

    /// The codes found; channels no rule names are denied unless `unlisted` says otherwise (so
    /// each check here sees only the finding it is about).
    func codes(
        _ environment: Environment, _ configuration: GatewayConfiguration, login: Login = .none,
        controllers: [any WebSocketController] = [], tokens: Bool = false, unlisted: ChannelConfiguration.UnlistedPolicy = .deny
    )
        async throws -> [String]
    {
        var configuration = configuration
        configuration.channels.unlisted = unlisted
        let app = try await Application.make(environment)
        let authentication: ConnectAuthentication? =
            switch login {
            case .none: nil
            case .withSessions: ConnectAuthentication(middleware: [app.sessions.middleware]) { _ in nil }
            case .withoutSessions: ConnectAuthentication(middleware: []) { _ in nil }
            }
        let gateway = WebSocketGateway(
            app: app, configuration: configuration, store: InMemoryConnectionStore(), poster: RecordingPoster(),
            authentication: authentication)
        for controller in controllers { try gateway.register(controller) }
        if tokens { try gateway.serveConnectionTokens() }
        let found = gateway.startupChecks(environment: environment).map(\.code)
        try await app.asyncShutdown()
        return found
    }

    @Test func productionStopsOnErrorsElsewhereWarns() async throws {
        #expect(try await codes(.production, GatewayConfiguration()) == ["apigw.E001"])
        #expect(try await codes(.development, GatewayConfiguration()) == ["apigw.W001"])
        #expect(try await codes(.production, GatewayConfiguration(secrets: ["short"])) == ["apigw.W002"])
        let secret = GatewayConfiguration(secrets: ["a-secret-of-enough-length"])
        #expect(try await codes(.production, secret, login: .withSessions) == ["apigw.E002"])
        #expect(try await codes(.production, secret, login: .withSessions, tokens: true) == ["apigw.E002", "apigw.E003"])
        #expect(try await codes(.testing, secret, login: .withSessions, tokens: true) == ["apigw.W003", "apigw.W005"])
        var origins = secret
        origins.allowedOrigins = ["chat.example.com"]
        #expect(try await codes(.production, origins, login: .withSessions, tokens: true).isEmpty)
        #expect(try await codes(.testing, origins, controllers: [Members()]) == ["apigw.W004"])
        #expect(try await codes(.testing, origins, controllers: [Announcer()]) == ["apigw.W004"], "a handler's requirement counts")
        #expect(try await codes(.production, origins, login: .withoutSessions, controllers: [Announcer()]) == ["apigw.E004"])
        #expect(try await codes(.testing, origins, login: .withoutSessions, controllers: [Members()]) == ["apigw.W006"])
        #expect(try await codes(.production, origins, login: .withSessions, controllers: [Members()]).isEmpty)
    }

    // The example allowed channels no rule names without a word at boot (the Python package warns, W004).
    @Test func openUnlistedChannelsAreAWarning() async throws {
        let origins = GatewayConfiguration(secrets: ["a-secret-of-enough-length"], allowedOrigins: ["chat.example.com"])
        #expect(try await codes(.production, origins, unlisted: .allow) == ["apigw.W007"])
        #expect(try await codes(.production, origins, unlisted: .deny).isEmpty)
        var hooked = origins
        hooked.channels.canJoin = { _ in .useRules }
        #expect(try await codes(.production, hooked, unlisted: .allow).isEmpty, "a canJoin hook is the app's own decision")
    }

    @Test func anErrorStopsTheBoot() async throws {
        let app = try await Application.make(.production)
        _ = WebSocketGateway(app: app, store: InMemoryConnectionStore(), poster: RecordingPoster())
        let error = await #expect(throws: StartupCheckError.self) { try await app.asyncBoot() }
        #expect(error?.description.hasPrefix("apigw.E001 no gateway secret") == true, "\(String(describing: error))")
        try await app.asyncShutdown()
    }
}
