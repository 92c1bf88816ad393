import APIGatewayWebSocketsCommands
import ArgumentParser
import Foundation
import HummingbirdChat
import Logging

/// `hummingbird-chat-example [serve] [--hostname H] [--port P] [--gateway-port G]`: the chat on
/// Hummingbird, with the local gateway in front of it, until SIGINT or SIGTERM; and the framework's
/// maintenance commands (`sessions`, `channels`, `cleanup`) on the same database.
@main
struct HummingbirdChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hummingbird-chat-example",
        abstract: "The chat example on Hummingbird 2, with the embedded local gateway in front of it.",
        subcommands: [
            Serve.self, GatewayCLI.Sessions<ChatDatabase>.self, GatewayCLI.Channels<ChatDatabase>.self, GatewayCLI.Cleanup<ChatDatabase>.self,
        ],
        defaultSubcommand: Serve.self)
}

/// What the maintenance commands act on: the chat's database (`CHAT_DATABASE`).
enum ChatDatabase: GatewayCommandEnvironment {
    static func withMaintenance<T: Sendable>(_ body: @Sendable (GatewayMaintenance) async throws -> T) async throws -> T {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        return try await HummingbirdChat.withMaintenance(
            settings: try HummingbirdChatSettings.fromEnvironment(hostname: "127.0.0.1", port: 8080, gatewayPort: nil), body)
    }
}

/// `serve`: the chat and its local gateway.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serves the chat on Hummingbird 2, with the embedded local gateway in front of it.")

    @Option(name: .shortAndLong, help: "The address the app listens on.")
    var hostname = "127.0.0.1"

    @Option(name: .shortAndLong, help: "The app's port.")
    var port = 8080

    @Option(name: .customLong("gateway-port"), help: "The local gateway's port (default CHAT_GATEWAY_PORT, or 8081).")
    var gatewayPort: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        if let gatewayPort, !(0...65_535).contains(gatewayPort) { throw ValidationError("--gateway-port must be between 0 and 65535") }
    }

    func run() async throws {
        // Logs go to standard error, so standard output carries the page's address alone.
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let settings = try HummingbirdChatSettings.fromEnvironment(hostname: hostname, port: port, gatewayPort: gatewayPort)
        let chat = try await HummingbirdChat.make(settings: settings)
        let logger = Logger(label: "hummingbird-chat")
        let group = try chat.services { page, webSocket in
            logger.notice(
                """
                local gateway: the app's routes applied through the planner; connect to \(webSocket)
                open \(page) in a browser and sign in as ada, bob or admin (staff), password '\(settings.demoPassword)' \
                (CHAT_DEMO_PASSWORD sets it for new accounts). Without a browser:
                  curl -c jar -d name=ada -d password='\(settings.demoPassword)' \(page)login
                  curl -b jar -X POST \(page)ws/token
                  then connect to \(webSocket)?channel=lobby&ws_token=<token>
                """)
            // Written at once, also when standard output is a pipe or a file.
            FileHandle.standardOutput.write(Data("Chat: \(page)\n".utf8))
        }
        try await group.run()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
