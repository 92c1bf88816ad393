public import Logging
public import ServiceLifecycle
import Synchronization
public import Vapor

/// Runs a swift-service-lifecycle `Service` for as long as a Vapor app runs: the one place the
/// Vapor door adapts a `Service` (the cleanup, the local gateway) to Vapor's lifecycle. The
/// service runs in a `ServiceGroup` of its own from the app's boot (or ``start(logger:)``, for
/// one made after the boot, in a command) and is shut down gracefully, then awaited, when the app
/// shuts down, as a Hummingbird app's `ServiceGroup` would on SIGTERM.
///
/// ```swift
/// app.lifecycle.use(ServiceLifecycleHandler(CleanupService(cleanup: Cleanup(store: store))))
/// ```
public final class ServiceLifecycleHandler: LifecycleHandler, Sendable {
    let service: any Service
    private let running = Mutex<(group: ServiceGroup, task: Task<Void, Never>)?>(nil)

    public init(_ service: any Service) {
        self.service = service
    }

    public func didBootAsync(_ application: Application) async throws {
        start(logger: application.logger)
    }

    /// Starts the service now, unless it runs already.
    public func start(logger: Logger) {
        running.withLock { running in
            guard running == nil else { return }
            let group = ServiceGroup(services: [service], logger: logger)
            let service = self.service
            let task = Task {
                do { try await group.run() } catch {
                    logger.error("a service stopped", metadata: ["apigw.service": "\(type(of: service))", "apigw.error": "\(error)"])
                }
            }
            running = (group, task)
        }
    }

    public func shutdownAsync(_ application: Application) async {
        guard
            let (group, task) = running.withLock({ running in
                defer { running = nil }; return running
            })
        else { return }
        await group.triggerGracefulShutdown()
        await task.value
    }
}
