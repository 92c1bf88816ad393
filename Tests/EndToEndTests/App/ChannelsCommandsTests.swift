import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Foundation
import PeerSupport
import HTTPTypes
import Testing
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

/// `channels rules|set-rule|remove-rule|counts` edit the rules every instance enforces.
@Suite struct ChannelsCommandsTests {
    func run(_ app: Application, _ arguments: String...) async throws -> String {
        let console = RecordingConsole()
        var context = CommandContext(console: console, input: CommandInput(arguments: ["App", "channels"] + arguments))
        context.application = app
        try await console.run(AsyncCommands(commands: ["channels": app.asyncCommands.commands["channels"]!]).group(), with: context)
        return console.text
    }

    @Test func rulesAreListedSetAndRemoved() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        try await withChatApp(path: database.path, poster: RecordingPoster()) { app, gateway in
            #expect(
                try await run(app, "rules")
                    == "games: everyone\nlobby: everyone\nrandom: everyone\nstaff: staff\nChannels no rule names: deny.\n",
                "the chat seeds a rule for each of its rooms, and denies the rest")
            #expect(
                try await run(app, "set-rule", "ops", "--access", "permissions", "--permissions", "ops.read+ops.write,admin")
                    == "ops: ops.read + ops.write | admin\n")
            let rule = try await gateway.dispatcher.channels.rules?.channelRule(for: ChannelName("ops"))
            #expect(rule?.access == .permissionSets([["ops.read", "ops.write"], ["admin"]]))
            #expect(try await run(app, "remove-rule", "staff") == "Removed the rule for staff.\n")
            #expect(try await run(app, "remove-rule", "staff") == "No rule names staff.\n")
            #expect(
                try await run(app, "rules")
                    == "games: everyone\nlobby: everyone\nops: ops.read + ops.write | admin\nrandom: everyone\nChannels no rule names: deny.\n")
            await #expect(throws: GatewayCommandError.self) { _ = try await run(app, "set-rule", "ops", "--access", "vip") }
            await #expect(throws: GatewayCommandError.self) { _ = try await run(app, "set-rule", "has space", "--access", "staff") }
            await #expect(throws: GatewayCommandError.self) { _ = try await run(app, "set-rule", "ops", "--access", "permissions") }
            for empty in [",", "a+", "a,,b", "+b"] {
                await #expect(throws: GatewayCommandError.self, "'\(empty)'") {
                    _ = try await run(app, "set-rule", "ops", "--access", "permissions", "--permissions", empty)
                }
            }
        }
    }

    @Test func countsNameEachChannelWithItsMembers() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        try await withChatApp(path: database.path, poster: RecordingPoster()) { app, _ in
            let fake = try FakeAPIGateway(app: app, apiID: APIID("chatlocal"), stage: "local", secret: "local-development-secret")
            let browser = ChatBrowser(app: app)
            _ = try await fake.connect(query: ["channel": "lobby"], headers: try await browser.connectHeaders("ada"))
            _ = try await fake.connect(query: ["channel": "lobby"], headers: try await browser.connectHeaders("ada"))
            _ = try await fake.connect(query: ["channel": "games"], headers: try await browser.connectHeaders("bob"))
            #expect(
                try await run(app, "counts", "--api", "chatlocal")
                    == "games: 1 connection(s), 1 user(s)\nlobby: 2 connection(s), 1 user(s)\n")
        }
    }
}
