import Vapor

/// Stops the HTTP server, letting the events in flight finish, before the application's other
/// lifecycle handlers shut down.
///
/// Vapor shuts its lifecycle handlers down, last registered first, before it stops the server:
/// on SIGTERM an HTTP client or pool shut down that way fails the fan-outs still running in
/// events (every post an error, the event answered 200 with nothing delivered). Stopping the
/// server first closes the listener and waits for the requests in flight, up to the server's
/// `shutdownTimeout` (10 s by default), so their fan-outs and touches complete while what they
/// use is still open. Handlers registered before the gateway, such as the `@connections` client
/// made for it, shut down after the drain; the server's own shutdown later finds it stopped.
struct DrainBeforeShutdown: LifecycleHandler {
    func shutdownAsync(_ application: Application) async {
        await application.server.shutdown()
    }
}
