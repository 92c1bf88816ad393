public import ArgumentParser

/// What the ``GatewayCLI`` commands act on: the embedding app opens its dispatcher (its store and
/// configuration, as it runs them) for one command, and closes what it opened after.
public protocol GatewayCommandEnvironment {
    static func withMaintenance<T: Sendable>(_ body: @Sendable (GatewayMaintenance) async throws -> T) async throws -> T
}

/// The framework's maintenance commands for swift-argument-parser, for any app (a Hummingbird
/// app, a worker) to embed among its subcommands, the same commands the Vapor door offers:
///
/// ```swift
/// struct AppCommand: AsyncParsableCommand {
///     static let configuration = CommandConfiguration(
///         subcommands: [Serve.self, GatewayCLI.Sessions<AppEnvironment>.self, GatewayCLI.Channels<AppEnvironment>.self,
///                       GatewayCLI.Cleanup<AppEnvironment>.self],
///         defaultSubcommand: Serve.self)
/// }
/// ```
///
/// Each prints its result to standard output; a misuse is an error with a reason, and exit status 1.
public enum GatewayCLI {
    /// `sessions clear [--older-than-days N]`, `sessions sweep`.
    public struct Sessions<Environment: GatewayCommandEnvironment>: AsyncParsableCommand {
        public static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "sessions", abstract: "Deletes disconnected WebSocket sessions, or marks expired ones disconnected.",
                subcommands: [Clear.self, Sweep.self])
        }

        public init() {}

        public struct Clear: AsyncParsableCommand {
            public static var configuration: CommandConfiguration {
                CommandConfiguration(commandName: "clear", abstract: "Deletes disconnected sessions.")
            }

            @Option(name: .customLong("older-than-days"), help: "Only those disconnected at least this many days ago (default 0).")
            var days: Int?

            public init() {}

            public func run() async throws {
                let days = days
                try await GatewayCLI.print(Environment.self) { try await $0.clearSessions(olderThanDays: days) }
            }
        }

        public struct Sweep: AsyncParsableCommand {
            public static var configuration: CommandConfiguration {
                CommandConfiguration(
                    commandName: "sweep",
                    abstract: "Marks disconnected the sessions API Gateway has certainly closed (older than its 2-hour maximum).")
            }

            public init() {}

            public func run() async throws { try await GatewayCLI.print(Environment.self) { try await $0.sweepSessions() } }
        }
    }

    /// `channels rules`, `channels set-rule CHANNEL --access KIND [--permissions SETS]`,
    /// `channels remove-rule CHANNEL`, `channels counts --api ID`.
    public struct Channels<Environment: GatewayCommandEnvironment>: AsyncParsableCommand {
        public static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "channels", abstract: "Lists and edits the channel rules, and counts who is in each channel.",
                subcommands: [Rules.self, SetRule.self, RemoveRule.self, Counts.self])
        }

        public init() {}

        public struct Rules: AsyncParsableCommand {
            public static var configuration: CommandConfiguration {
                CommandConfiguration(commandName: "rules", abstract: "Lists the channel rules, and the policy for channels no rule names.")
            }

            public init() {}

            public func run() async throws { try await GatewayCLI.print(Environment.self) { try await $0.channelRules() } }
        }

        public struct SetRule: AsyncParsableCommand {
            public static var configuration: CommandConfiguration {
                CommandConfiguration(commandName: "set-rule", abstract: "Adds or replaces the rule for a channel.")
            }

            @Argument(help: "The channel the rule is for.")
            var channel: String
            @Option(help: "everyone, authenticated, staff, admin, or permissions.")
            var access: String?
            @Option(help: "With --access permissions: sets of names, '+' within a set, ',' between sets.")
            var permissions: String?

            public init() {}

            public func run() async throws {
                let (channel, access, permissions) = (channel, access, permissions)
                try await GatewayCLI.print(Environment.self) { try await $0.setRule(channel: channel, access: access, permissions: permissions) }
            }
        }

        public struct RemoveRule: AsyncParsableCommand {
            public static var configuration: CommandConfiguration {
                CommandConfiguration(
                    commandName: "remove-rule", abstract: "Removes the rule for a channel; the unlisted policy applies to it from then on.")
            }

            @Argument(help: "The channel whose rule goes.")
            var channel: String

            public init() {}

            public func run() async throws {
                let channel = channel
                try await GatewayCLI.print(Environment.self) { try await $0.removeRule(channel: channel) }
            }
        }

        public struct Counts: AsyncParsableCommand {
            public static var configuration: CommandConfiguration {
                CommandConfiguration(commandName: "counts", abstract: "Counts the live connections and users in each channel of an API.")
            }

            @Option(help: "The API Gateway API id.")
            var api: String?

            public init() {}

            public func run() async throws {
                let api = api
                try await GatewayCLI.print(Environment.self) { try await $0.channelCounts(api: api) }
            }
        }
    }

    /// `cleanup [--hits-older-than-seconds N]`: what the scheduled cleanup does, once.
    public struct Cleanup<Environment: GatewayCommandEnvironment>: AsyncParsableCommand {
        public static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "cleanup",
                abstract: "Deletes expired sessions, connection tokens, web sessions and rate-limit hits older than any window.")
        }

        @Option(
            name: .customLong("hits-older-than-seconds"),
            help: "Delete rate-limit hits older than this (default: the longest window, at least 3600).")
        var hitsOlderThan: Int?

        public init() {}

        public func run() async throws {
            let seconds = hitsOlderThan
            try await GatewayCLI.print(Environment.self) { try await $0.cleanup(hitsOlderThanSeconds: seconds) }
        }
    }

    /// Runs `body` in the environment and prints its lines.
    static func print<Environment: GatewayCommandEnvironment>(
        _ environment: Environment.Type, _ body: @escaping @Sendable (GatewayMaintenance) async throws -> [String]
    ) async throws {
        let lines = try await Environment.withMaintenance(body)
        if !lines.isEmpty { write(lines.joined(separator: "\n")) }
    }
}
