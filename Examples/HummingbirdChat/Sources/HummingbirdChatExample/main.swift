import APIGatewayWebSocketsCommands
import APIGatewayWebSocketsSQL
import ArgumentParser
import Configuration
import Foundation
import HummingbirdChat
import Logging

/// `hummingbird-chat-example [serve] [--hostname H] [--port P] [--gateway-port G]`: the chat on
/// Hummingbird, with the local gateway in front of it, until SIGINT or SIGTERM; and the framework's
/// commands (`gateway`, `publish`, `sessions`, `channels`, `cleanup`) and `listen` on the same database.
@main
struct HummingbirdChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hummingbird-chat-example",
        abstract: "The chat example on Hummingbird 2, with the embedded local gateway in front of it.",
        discussion: """
            Settings come from the environment through swift-configuration: CHAT_DATABASE, DATABASE_URL, HTTP_HOST, HTTP_PORT, \
            CHAT_GATEWAY_PORT, CHAT_LOCAL_GATEWAY_STATE, WS_GATEWAY_SECRET, CHAT_DEMO_PASSWORD, CHAT_ROOMS, CHAT_ORIGINS, \
            CHAT_AUTHORIZER; \
            serve's options come first.
            """,
        subcommands: [
            Serve.self, Listen.self, GatewayCLI.Gateway<ChatEnvironment>.self, GatewayCLI.Publish<ChatEnvironment>.self,
            GatewayCLI.Sessions<ChatEnvironment>.self, GatewayCLI.Channels<ChatEnvironment>.self, GatewayCLI.Cleanup<ChatEnvironment>.self,
        ],
        defaultSubcommand: Serve.self)
}

/// What the framework's commands act on: the chat's database and routes, with the settings from
/// the environment.
enum ChatEnvironment: GatewayCommandEnvironment, GatewayProvisioningEnvironment {
    static func withMaintenance<T: Sendable>(_ body: @Sendable (GatewayMaintenance) async throws -> T) async throws -> T {
        quietLogs()
        return try await HummingbirdChat.withMaintenance(settings: try settings(), body)
    }

    static func withProvisioner<T: Sendable>(endpoint: String?, _ body: @Sendable (GatewayProvisioner) async throws -> T) async throws -> T {
        quietLogs()
        return try await HummingbirdChat.withProvisioner(settings: try settings(), endpoint: endpoint, body)
    }

    static func settings(overriding options: [AbsoluteConfigKey: ConfigValue] = [:]) throws -> HummingbirdChatSettings {
        try HummingbirdChatSettings(
            config: ConfigReader(providers: [InMemoryProvider(name: "options", values: options), EnvironmentVariablesProvider()]))
    }

    /// A command's output alone on standard output; warnings and errors on standard error.
    static func quietLogs() {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
    }
}

/// `listen --channel C [--user U] [--count N] [--seconds S]`: a channel's messages as they arrive.
struct Listen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prints a channel's messages as they arrive, one JSON object a line, resuming after a cut.")

    @Option(help: "The channel to listen to.")
    var channel: String?
    @Option(help: "Whose connection it is (default admin).")
    var user: String?
    @Option(help: "Stop after this many messages.")
    var count: Int?
    @Option(help: "Stop after this many seconds.")
    var seconds: Int?

    func run() async throws {
        ChatEnvironment.quietLogs()
        try await HummingbirdChat.listen(settings: try ChatEnvironment.settings(), channel: channel, user: user, count: count, seconds: seconds)
    }
}

/// `serve`: the chat and its local gateway.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serves the chat on Hummingbird 2, with the embedded local gateway in front of it.")

    @Option(name: .shortAndLong, help: "The address the app listens on (default HTTP_HOST, or 127.0.0.1).")
    var hostname: String?

    @Option(name: .shortAndLong, help: "The app's port (default HTTP_PORT, or 8080).")
    var port: Int?

    @Option(name: .customLong("gateway-port"), help: "The local gateway's port (default CHAT_GATEWAY_PORT, or 8081).")
    var gatewayPort: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Flag(help: "The user comes from the app's Lambda-style authorizer on $connect. CHAT_AUTHORIZER=on does the same, and the gateway commands read it too.")
    var authorizer = false

    func validate() throws {
        if let port, !(0...65_535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
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
        var options: [AbsoluteConfigKey: ConfigValue] = [:]
        if let hostname { options[["http", "host"]] = ConfigValue(.string(hostname), isSecret: false) }
        if let port { options[["http", "port"]] = ConfigValue(.string(String(port)), isSecret: false) }
        if let gatewayPort { options[["chat", "gateway", "port"]] = ConfigValue(.string(String(gatewayPort)), isSecret: false) }
        if authorizer { options[["chat", "authorizer"]] = ConfigValue(.string("on"), isSecret: false) }
        let settings = try ChatEnvironment.settings(overriding: options)
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
