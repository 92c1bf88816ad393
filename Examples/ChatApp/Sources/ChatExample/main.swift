import APIGatewayLocal
import ChatApp
import Foundation
import Vapor

// The chat example on the embedded defaults: the backend on 127.0.0.1:8080 with sessions in
// chat.sqlite, and the local gateway on 127.0.0.1:8081 in front of it. Connect any WebSocket
// client to ws://127.0.0.1:8081/chatlocal/local and send {"action":"sendmessage","text":"hi"}.
// CHAT_LOCAL_GATEWAY=off runs the backend alone (e.g. behind a real API Gateway).
var environment = try Environment.detect()
try LoggingSystem.bootstrap(from: &environment)
let app = try await Application.make(environment)
var localGateway: LocalGateway?
do {
    let settings = try ChatSettings.fromEnvironment()
    let gateway = try await configureChat(app, settings: settings)
    for route in gateway.registeredRoutes { app.logger.notice("route \(route)") }
    // Commands (`gateway plan`, `sessions clear`, …) run without the local gateway in front.
    let serving = CommandLine.arguments.dropFirst().first.map { $0 == "serve" || $0.hasPrefix("-") } ?? true
    if serving && Environment.get("CHAT_LOCAL_GATEWAY") != "off" {
        let port = Int(Environment.get("CHAT_GATEWAY_PORT") ?? "8081") ?? 8081
        let backend = "http://\(app.http.server.configuration.hostname):\(app.http.server.configuration.port)"
        let local = LocalGateway(
            configuration: LocalGatewayConfiguration(port: port, apis: [chatLocalAPI(backend: backend, settings: settings)]),
            logger: app.logger
        )
        try await local.start()
        localGateway = local
        app.logger.notice(
            "local gateway: connect to ws://127.0.0.1:\(local.port ?? port)/\(settings.gateway.apiID)/\(settings.gateway.stage)")
    }
    try await app.execute()
} catch {
    app.logger.report(error: error)
    try? await localGateway?.stop()
    try? await app.asyncShutdown()
    // The error was logged; a command that fails exits 1 instead of trapping with a backtrace.
    exit(1)
}
try? await localGateway?.stop()
try await app.asyncShutdown()
