import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Hummingbird
import HummingbirdAPIGatewayWebSockets
import Logging
import ServiceLifecycle
import Testing

/// The Hummingbird door passes the adapter suite the Vapor door passes.
@Suite struct HummingbirdAdapterTests {
    @Test(arguments: AdapterConformance.checks)
    func conforms(_ check: AdapterConformance.Check) async throws {
        try await check.run(Self.start)
    }

    /// A Hummingbird application on 127.0.0.1, port 0, serving `setup` through the door.
    @Sendable static func start(_ setup: AdapterConformance.Setup) async throws -> AdapterConformance.Door {
        let dispatcher = GatewayDispatcher(
            configuration: setup.configuration, store: setup.store, gateways: CachedGatewayDirectory([setup.gateway]),
            poster: setup.poster)
        let gateway = HummingbirdWebSocketGateway<BasicRequestContext>(dispatcher: dispatcher) { request, _ in
            request.headers[setup.userHeader].map { AuthenticatedUser(id: $0) }
        }
        let router = Router()
        for (controller, path) in setup.controllers { try gateway.register(controller, at: path, on: router) }
        let (ports, port) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { port.yield($0.localAddress?.port ?? 0) })
        // Stopped as a service is: a graceful shutdown, in-flight requests finished.
        let group = ServiceGroup(services: [app], logger: Logger(label: "adapter-tests"))
        let serving = Task { try await group.run() }
        var bound = ports.makeAsyncIterator()
        guard let number = await bound.next(), number > 0 else {
            await group.triggerGracefulShutdown()
            throw AdapterConformance.Failure(description: "the Hummingbird server did not bind")
        }
        return AdapterConformance.Door(baseURL: "http://127.0.0.1:\(number)", routes: dispatcher.routes) {
            await group.triggerGracefulShutdown()
            try await serving.value
        }
    }
}
