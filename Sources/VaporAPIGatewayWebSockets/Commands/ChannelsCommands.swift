import APIGatewayWebSockets
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

extension CommandContext {
    /// The gateway's rule store, or the command's error.
    fileprivate var channelRules: any ChannelRuleStore {
        get throws {
            guard let rules = try webSocketGateway.dispatcher.channels.rules else { throw GatewayCommandError.noChannelRuleStore() }
            return rules
        }
    }
}

/// `channels rules`.
struct ListRulesCommand: AsyncCommand {
    struct Signature: CommandSignature { init() {} }

    var help: String { "Lists the channel rules, and the policy for channels no rule names." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let rules = try await context.channelRules.channelRules()
        for rule in rules { context.console.print("\(rule.channel): \(rule.access)") }
        let policy = try context.webSocketGateway.dispatcher.configuration.channels.unlisted
        context.console.print("\(rules.isEmpty ? "No rules. " : "")Channels no rule names: \(policy).")
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
        let channel: ChannelName
        do { channel = try ChannelName(signature.channel) } catch { throw GatewayCommandError.invalid("channel", error) }
        guard let kind = signature.access else { throw GatewayCommandError.missing("--access", for: "channels set-rule") }
        if kind == "permissions", signature.permissions?.isEmpty ?? true {
            throw GatewayCommandError.missing("--permissions", for: "channels set-rule --access permissions")
        }
        let access: ChannelAccess
        do { access = try ChannelAccess(written: kind, sets: signature.permissions) } catch {
            throw GatewayCommandError.invalid("--access", error)
        }
        _ = try context.channelRules
        let removed = try await context.webSocketGateway.dispatcher.channels.saveRule(ChannelRule(channel: channel, access: access))
        context.console.print("\(channel): \(access)")
        if removed > 0 { context.console.print("Removed \(removed) member(s) who may no longer join \(channel).") }
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
        let channel: ChannelName
        do { channel = try ChannelName(signature.channel) } catch { throw GatewayCommandError.invalid("channel", error) }
        _ = try context.channelRules
        let (existed, removed) = try await context.webSocketGateway.dispatcher.channels.removeRule(for: channel)
        context.console.print(existed ? "Removed the rule for \(channel)." : "No rule names \(channel).")
        if removed > 0 { context.console.print("Removed \(removed) member(s) who may no longer join \(channel).") }
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
        guard let raw = signature.api else { throw GatewayCommandError.missing("--api", for: "channels counts") }
        let apiID: APIID
        do { apiID = try APIID(raw) } catch { throw GatewayCommandError.invalid("--api", error) }
        let counts = try await context.webSocketGateway.dispatcher.store.channelCounts(apiID: apiID)
        for count in counts { context.console.print("\(count.channel): \(count.connections) connection(s), \(count.users) user(s)") }
        if counts.isEmpty { context.console.print("No channel of \(apiID) has a live member.") }
    }
}
