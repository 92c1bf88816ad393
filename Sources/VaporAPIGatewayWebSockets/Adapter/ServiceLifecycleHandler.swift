public import ServiceLifecycle
import Synchronization
public import Vapor

/// Runs a swift-service-lifecycle `Service` for as long as a Vapor app runs: started when the app
/// has booted, cancelled and awaited when it shuts down. The one place the Vapor door adapts a
/// `Service` (the cleanup, the local gateway) to Vapor's lifecycle; a Hummingbird app puts the
/// same services in its `ServiceGroup`.
///
/// ```swift
/// app.lifecycle.use(ServiceLifecycleHandler(CleanupService(cleanup: Cleanup(store: store))))
/// ```
public final class ServiceLifecycleHandler: LifecycleHandler, Sendable {
    let service: any Service
    private let task = Mutex<Task<Void, Never>?>(nil)

    public init(_ service: any Service) {
        self.service = service
    }

    public func didBootAsync(_ application: Application) async throws {
        let service = self.service, logger = application.logger
        task.withLock {
            $0 = Task {
                do { try await service.run() } catch is CancellationError {} catch {
                    logger.error("a service stopped", metadata: ["apigw.service": "\(type(of: service))", "apigw.error": "\(error)"])
                }
            }
        }
    }

    public func shutdownAsync(_ application: Application) async {
        let running = task.withLock { task in
            defer { task = nil }
            return task
        }
        running?.cancel()
        await running?.value
    }
}
