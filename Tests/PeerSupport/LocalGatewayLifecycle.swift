public import APIGatewayLocal
import Logging
import ServiceLifecycle
import Synchronization

/// The local gateway as a test runs it: its one lifecycle, `run()`, in a `ServiceGroup` of its
/// own, as an app's group runs it, started before the test's steps and shut down gracefully
/// after them.
extension LocalGateway {
    /// Runs the gateway until ``stop()``; returns once it serves (its port is then known).
    /// - Throws: what kept it from serving (a port in use, an unreadable state file).
    public func start() async throws {
        let group = ServiceGroup(services: [self], logger: Logger(label: "local-gateway-test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task { try await group.run() }
        LocalGatewayRuns.shared.runs.withLock { $0[ObjectIdentifier(self)] = (group, task) }
        do {
            _ = try await waitUntilRunning()
        } catch {
            LocalGatewayRuns.shared.runs.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(self)) }
            _ = try? await task.value
            throw error
        }
    }

    /// Shuts the gateway down gracefully (drains, closes every connection) and waits for `run()` to return.
    public func stop() async throws {
        guard let (group, task) = LocalGatewayRuns.shared.runs.withLock({ $0.removeValue(forKey: ObjectIdentifier(self)) }) else { return }
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

/// The groups tests started, by gateway.
final class LocalGatewayRuns: Sendable {
    static let shared = LocalGatewayRuns()
    let runs = Mutex<[ObjectIdentifier: (ServiceGroup, Task<Void, any Error>)]>([:])
}
