import ChatApp
import Vapor

// The chat example: `swift run chat-example` serves API Gateway's callbacks on 127.0.0.1:8080.
var environment = try Environment.detect()
try LoggingSystem.bootstrap(from: &environment)
let app = try await Application.make(environment)
do {
    let gateway = try await configureChat(app, settings: try .fromEnvironment())
    for route in gateway.registeredRoutes { app.logger.notice("route \(route)") }
    try await app.execute()
} catch {
    app.logger.report(error: error)
    try? await app.asyncShutdown()
    throw error
}
try await app.asyncShutdown()
