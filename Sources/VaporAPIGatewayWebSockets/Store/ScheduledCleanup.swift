public import APIGatewayWebSockets
public import Vapor

extension WebSocketGateway {
    /// The cleanup the `cleanup` command runs and ``scheduleCleanup(every:on:)`` repeats: the
    /// framework's tables, the app's web sessions when it keeps them in ``DatabaseWebSessions``,
    /// and the streams' history beyond its retention when streams are on.
    public func cleanup(on app: Application) -> Cleanup {
        dispatcher.cleanup(steps: app.databaseWebSessions.map { [$0.store.cleanupStep] } ?? [], logger: app.logger)
    }

    /// Opts in to the periodic cleanup: while the app runs, every `interval` sessions API Gateway
    /// has certainly closed are marked, and expired tokens, old rate-limit hits, old disconnected
    /// sessions and expired web sessions are deleted, so the tables stay bounded. Every instance
    /// may run it. `cleanup` does it once.
    public func scheduleCleanup(every interval: Duration = .seconds(600), on app: Application) {
        app.lifecycle.use(ServiceLifecycleHandler(CleanupService(cleanup: cleanup(on: app), interval: interval, logger: app.logger)))
    }
}
