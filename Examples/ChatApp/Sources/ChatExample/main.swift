import APIGatewayLocal
import ChatApp
import Foundation
import Vapor

// The chat example on the embedded defaults: the backend on 127.0.0.1:8080 with sessions in
// chat.sqlite, and the local gateway on 127.0.0.1:8081 in front of it, its API applied through
// the planner at start. Open http://127.0.0.1:8080/ and sign in as a demo user.
// CHAT_LOCAL_GATEWAY=off runs the backend alone (e.g. behind a real API Gateway).
// --authorizer: connects are authorized by the app's own Lambda-style authorizer instead of the
// login cookie (``ChatSettings/authorizer``); read from the command line by the settings, and
// taken off it here, as Vapor's commands do not know it.
var environment = try Environment.detect()
environment.arguments.removeAll { $0 == "--authorizer" }
do { try ChatLogging.bootstrap(&environment) } catch {
    FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
    exit(1)
}
let app = try await Application.make(environment)
do {
    var settings = try ChatSettings.fromEnvironment()
    // `--help` prints usage only: the commands are registered on a database of this process's
    // memory, so no file is created and nothing is migrated on disk.
    if ChatLogging.isHelpRequest(environment.arguments) {
        settings.databasePath = ":memory:"
        settings.databaseURL = nil
    }
    // With the embedded local gateway, the API is applied through the planner at start; alone,
    // the backend accepts the API the settings name.
    let gateway = try await configureChat(
        app, settings: settings, registerAPI: !settings.embeddedGateway, metrics: ChatMetrics.bootstrap())
    for route in gateway.registeredRoutes { app.logger.notice("route \(route)") }
    if settings.embeddedGateway {
        // `serve` (the default command) binds, then starts the local gateway in front of it.
        app.asyncCommands.use(
            ServeWithLocalGateway(gatewayPort: settings.gatewayPort, settings: settings, gateway: gateway), as: "serve", isDefault: true)
    }
    // `execute()` without its own log line for a failed command: the error is printed once, below.
    try await app.startup()
    try await app.running?.onStop.get()
} catch {
    // A command's error is its message on standard error and exit status 1, never a backtrace.
    let message = (error as? any AbortError)?.reason ?? String(describing: error)
    FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
    try? await app.asyncShutdown()
    exit(1)
}
try await app.asyncShutdown()
