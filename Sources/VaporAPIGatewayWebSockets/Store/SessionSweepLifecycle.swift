public import APIGatewayWebSockets
import Synchronization
public import Vapor

extension WebSocketGateway {
    /// Opts in to the periodic sweep: while the app runs, every `interval` the sessions API
    /// Gateway has certainly closed (older than its 2-hour maximum) are marked disconnected.
    /// Every instance may run it; the statement is idempotent. `sessions sweep` does it once.
    public func sweepSessions(every interval: Duration = .seconds(600), on app: Application) {
        app.lifecycle.use(SessionSweepLifecycle(sweeper: SessionSweeper(store: dispatcher.store, logger: app.logger), interval: interval))
    }
}

/// Runs a ``SessionSweeper`` from boot to shutdown.
final class SessionSweepLifecycle: LifecycleHandler, Sendable {
    let sweeper: SessionSweeper
    let interval: Duration
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(sweeper: SessionSweeper, interval: Duration) {
        self.sweeper = sweeper
        self.interval = interval
    }

    func didBootAsync(_ application: Application) async throws {
        let sweeper = self.sweeper, interval = self.interval
        task.withLock { $0 = Task { await sweeper.run(every: interval) } }
    }

    func shutdownAsync(_ application: Application) async {
        let running = task.withLock { task in
            defer { task = nil }
            return task
        }
        running?.cancel()
        await running?.value
    }
}
