import APIGatewayWebSockets
import APIGatewayWebSocketsCommands
import Foundation
public import Vapor

/// `channels <command>`: the channel rules every instance enforces, and who is in a channel.
///
/// ```sh
/// swift run App channels rules
/// swift run App channels set-rule staff --access staff
/// swift run App channels set-rule ops --access permissions --permissions "ops.read+ops.write,admin"
/// swift run App channels remove-rule staff
/// swift run App channels counts --api abc123defg
/// ```
public struct ChannelsCommands: AsyncCommandGroup {
    public let commands: [String: any AnyAsyncCommand] = [
        "rules": ListRulesCommand(), "set-rule": SetRuleCommand(), "remove-rule": RemoveRuleCommand(), "counts": CountsCommand(),
    ]

    public var help: String { "Lists and edits the channel rules, and counts who is in each channel." }

    public init() {}
}

/// `channels rules`.
struct ListRulesCommand: AsyncCommand {
    struct Signature: CommandSignature { init() {} }

    var help: String { "Lists the channel rules, and the policy for channels no rule names." }

    func run(using context: CommandContext, signature: Signature) async throws {
        for line in try await context.maintenance.channelRules() { context.console.print(line) }
    }
}

/// `channels set-rule <channel> --access …`.
struct SetRuleCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "channel", help: "The channel the rule is for")
        var channel: String
        @Option(name: "access", help: "everyone, authenticated, staff, admin, or permissions")
        var access: String?
        @Option(name: "permissions", help: "With --access permissions: sets of names, '+' within a set, ',' between sets")
        var permissions: String?
        init() {}
    }

    var help: String { "Adds or replaces the rule for a channel." }

    func run(using context: CommandContext, signature: Signature) async throws {
        for line in try await context.maintenance.setRule(channel: signature.channel, access: signature.access, permissions: signature.permissions) {
            context.console.print(line)
        }
    }
}

/// `channels remove-rule <channel>`.
struct RemoveRuleCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "channel", help: "The channel whose rule goes")
        var channel: String
        init() {}
    }

    var help: String { "Removes the rule for a channel; the unlisted policy applies to it from then on." }

    func run(using context: CommandContext, signature: Signature) async throws {
        for line in try await context.maintenance.removeRule(channel: signature.channel) { context.console.print(line) }
    }
}

/// `channels counts --api <id>`.
struct CountsCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "api", help: "The API Gateway API id")
        var api: String?
        init() {}
    }

    var help: String { "Counts the live connections and users in each channel of an API." }

    func run(using context: CommandContext, signature: Signature) async throws {
        for line in try await context.maintenance.channelCounts(api: signature.api) { context.console.print(line) }
    }
}
