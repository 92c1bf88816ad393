import APIGatewayWebSockets
import HTTPTypes
import Hummingbird
import HummingbirdAPIGatewayWebSockets
import Logging
import ServiceLifecycle

/// The benchmark's events through the Hummingbird door: `controller` on a Hummingbird router
/// on 127.0.0.1, port 0, beside the bare handler at `POST /bench/bare`.
struct HummingbirdDoor {
    let port: Int
    private let group: ServiceGroup
    private let serving: Task<Void, any Error>

    init(dispatcher: GatewayDispatcher, controller: some WebSocketController) async throws {
        let router = Router()
        try HummingbirdWebSocketGateway<BasicRequestContext>(dispatcher: dispatcher).register(controller, on: router)
        router.post("bench/bare") { request, _ -> HTTPResponse.Status in
            _ = try await request.body.collect(upTo: 1 << 20)
            return .ok
        }
        let (ports, bound) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "bench.hummingbird")
        logger.logLevel = .error
        let server = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { bound.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(services: [server], logger: logger)
        self.group = group
        serving = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        port = await iterator.next() ?? 0
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await serving.value
    }
}
