public import APIGatewayWebSocketsSQL
public import ArgumentParser
import Foundation

/// What ``GatewayCLI/Gateway`` acts on: the embedding app opens its `GatewayProvisioner` (its
/// routes, configuration, gateway records and credentials) for one command, and closes what it
/// opened after.
public protocol GatewayProvisioningEnvironment {
    /// Runs `body` with the app's provisioner, its control-plane clients at `endpoint` when given
    /// (the local gateway, moto) instead of AWS's.
    static func withProvisioner<T: Sendable>(endpoint: String?, _ body: @Sendable (GatewayProvisioner) async throws -> T) async throws -> T
}

extension GatewayCLI {
    /// `gateway configure|status|plan|apply|domain|import|export|rotate-secret|add-route|remove-route`:
    /// the gateway records and the app's routes as API Gateway's, the same commands as the Vapor
    /// door's `gateway`, through the same planner. A command's result alone goes to standard
    /// output, so an export redirected to a file is the file.
    ///
    /// ```sh
    /// app gateway configure --gateway chat --public-url https://backend.example.com --stage production
    /// app gateway plan --gateway chat
    /// app gateway apply --gateway chat
    /// app gateway export --gateway chat --format terraform > ws.tf
    /// ```
    public struct Gateway<Environment: GatewayProvisioningEnvironment>: AsyncParsableCommand {
        public static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "gateway", abstract: "Configures, plans, applies and exports the app's WebSocket API in API Gateway.",
                subcommands: [
                    Configure.self, Status.self, Plan.self, Apply.self, Domain.self, Import.self, Export.self, RotateSecret.self,
                    AddRoute.self, RemoveRoute.self,
                ])
        }

        public init() {}

        /// Runs `body` on the app's ``GatewayDeployment`` and writes its output.
        static func run(endpoint: String? = nil, _ body: @escaping @Sendable (GatewayDeployment) async throws -> String) async throws {
            let text = try await Environment.withProvisioner(endpoint: endpoint) { try await body(GatewayDeployment(provisioner: $0)) }
            GatewayCLI.write(text)
        }

        public struct Configure: AsyncParsableCommand {
            public static var configuration: CommandConfiguration {
                CommandConfiguration(
                    commandName: "configure",
                    abstract: "Creates or changes a gateway record: where API Gateway reaches this backend, the stage, tags, a custom domain.")
            }

            @Option(name: [.customShort("g"), .long], help: "The gateway record's name.")
            var gateway: String?
            @Option(name: .customLong("public-url"), help: "Where API Gateway reaches this backend (needed for a new gateway).")
            var publicURL: String?
            @Option(help: "The stage (default production).")
            var stage: String?
            @Option(help: "The API's description (empty: none).")
            var description: String?
            @Option(name: .customLong("stage-description"), help: "The stage's description (empty: none).")
            var stageDescription: String?
            @Option(name: .customLong("default-channel"), help: "The channel a connection joins when it names none (empty: none).")
            var defaultChannel: String?
            @Option(help: "The AWS region (default AWS_REGION, AWS_DEFAULT_REGION or us-east-1).")
            var region: String?
            @Option(name: .customLong("route-selection-expression"), help: "Default $request.body.action.")
            var routeSelectionExpression: String?
            @Option(help: "The API's tags, as key=value,key=value (empty: none).")
            var tags: String?
            @Option(help: "A custom domain, e.g. ws.example.com (empty: none).")
            var domain: String?
            @Option(name: .customLong("certificate-arn"), help: "The ACM certificate for --domain.")
            var certificateARN: String?
            @Option(name: .customLong("hosted-zone-id"), help: "The Route 53 hosted zone of --domain.")
            var hostedZoneID: String?

            public init() {}

            public func run() async throws {
                let (gateway, changes) = (
                    gateway,
                    GatewayDeployment.Changes(
                        publicURL: publicURL, stage: stage, description: description, stageDescription: stageDescription,
                        defaultChannel: defaultChannel, region: region, routeSelectionExpression: routeSelectionExpression, tags: tags,
                        domain: domain, certificateARN: certificateARN, hostedZoneID: hostedZoneID)
                )
                try await Gateway.run { try await $0.configure(gateway: gateway, changes) }
            }
        }

        public struct Status: AsyncParsableCommand {
            public static var configuration: CommandConfiguration {
                CommandConfiguration(
                    commandName: "status", abstract: "Shows a gateway record: its settings, its API in API Gateway, its routes and the last error.")
            }

            @Option(name: [.customShort("g"), .long], help: "The gateway record's name (needed when there are several).")
            var gateway: String?

            public init() {}

            public func run() async throws {
                let gateway = gateway
                try await Gateway.run { try await $0.status(gateway: gateway) }
            }
        }

        public struct Plan: AsyncParsableCommand {
            public static var configuration: CommandConfiguration {
                CommandConfiguration(commandName: "plan", abstract: "Shows what apply would change in API Gateway, and changes nothing.")
            }

            @Option(name: [.customShort("g"), .long], help: "The gateway record's name (needed when there are several).")
            var gateway: String?
            @Option(help: "text (default), json (for scripts) or console (the changes as console steps).")
            var format: String?
            @Option(help: "A control-plane endpoint instead of AWS's (the local gateway, moto).")
            var endpoint: String?

            public init() {}

            public func run() async throws {
                let (gateway, format) = (gateway, format)
                try await Gateway.run(endpoint: endpoint) { try await $0.plan(gateway: gateway, format: format) }
            }
        }

        public struct Apply: AsyncParsableCommand {
            public static var configuration: CommandConfiguration {
                CommandConfiguration(
                    commandName: "apply",
                    abstract: "Shows the plan, asks before deleting anything, then makes API Gateway match the app's routes step by step.",
                    discussion: "Every id is recorded as its step succeeds, so an apply that stopped resumes.")
            }

            @Option(name: [.customShort("g"), .long], help: "The gateway record's name (needed when there are several).")
            var gateway: String?
            @Option(help: "A control-plane endpoint instead of AWS's (the local gateway, moto).")
            var endpoint: String?
            @Flag(name: [.customShort("y"), .long], help: "Apply deletions without asking.")
            var yes = false

            public init() {}

            public func run() async throws {
                let (gateway, yes) = (gateway, yes)
                try await Gateway.run(endpoint: endpoint) { deployment in
                    try await deployment.apply(gateway: gateway, show: { GatewayCLI.write($0) }) { deletions in
                        if yes { return true }
                        // No answer (a closed input, a script) is no.
                        GatewayCLI.write("Delete \(deletions) route(s) from API Gateway? Type 'yes' to apply: ", newline: false)
                        return readLine()?.trimmingCharacters(in: .whitespaces).lowercased() == "yes"
                    }
                }
            }
        }

        public struct Domain: AsyncParsableCommand {
            public static var configuration: CommandConfiguration {
                CommandConfiguration(
                    commandName: "domain",
                    abstract: "Creates the custom domain (with its certificate) and maps it to the stage; prints what DNS must point at.")
            }

            @Option(name: [.customShort("g"), .long], help: "The gateway record's name (needed when there are several).")
            var gateway: String?
            @Flag(name: .customLong("dry-run"), help: "Show what would change and change nothing.")
            var dryRun = false
            @Option(help: "A control-plane endpoint instead of AWS's (the local gateway, moto).")
            var endpoint: String?

            public init() {}

            public func run() async throws {
                let (gateway, dryRun) = (gateway, dryRun)
                try await Gateway.run(endpoint: endpoint) { try await $0.domain(gateway: gateway, dryRun: dryRun) }
            }
        }

        public struct Import: AsyncParsableCommand {
            public static var configuration: CommandConfiguration {
                CommandConfiguration(
                    commandName: "import", abstract: "Reads an existing API into the gateway records, its extra routes as additional routes.")
            }

            @Option(name: .customLong("api-id"), help: "The API to read.")
            var apiID: String?
            @Option(name: [.customShort("g"), .long], help: "The record's name (default: the API's name).")
            var gateway: String?
            @Option(help: "The stage to serve (default: the API's only stage).")
            var stage: String?
            @Option(name: .customLong("public-url"), help: "Where API Gateway reaches this backend (default: found from a registered route).")
            var publicURL: String?
            @Option(help: "The API's region (default AWS_REGION, AWS_DEFAULT_REGION or us-east-1).")
            var region: String?
            @Option(help: "A control-plane endpoint instead of AWS's (the local gateway, moto).")
            var endpoint: String?

            public init() {}

            public func run() async throws {
                let (apiID, gateway, stage, publicURL, region) = (apiID, gateway, stage, publicURL, region)
                try await Gateway.run(endpoint: endpoint) {
                    try await $0.importAPI(apiID: apiID, gateway: gateway, stage: stage, publicURL: publicURL, region: region)
                }
            }
        }

        public struct Export: AsyncParsableCommand {
            public static var configuration: CommandConfiguration {
                CommandConfiguration(
                    commandName: "export",
                    abstract: "Writes the API as CloudFormation (YAML or JSON), Terraform, or console steps, to standard output.")
            }

            @Option(name: [.customShort("g"), .long], help: "The gateway record's name (needed when there are several).")
            var gateway: String?
            @Option(help: "yaml (CloudFormation, default), json (CloudFormation), terraform or console.")
            var format: String?

            public init() {}

            public func run() async throws {
                let (gateway, format) = (gateway, format)
                try await Gateway.run { try await $0.export(gateway: gateway, format: format) }
            }
        }

        public struct RotateSecret: AsyncParsableCommand {
            public static var configuration: CommandConfiguration {
                CommandConfiguration(commandName: "rotate-secret", abstract: "Makes every integration send a new gateway secret, then deploys.")
            }

            @Option(name: [.customShort("g"), .long], help: "The gateway record's name (needed when there are several).")
            var gateway: String?
            @Option(help: "The new secret (default: the app's first accepted secret).")
            var secret: String?
            @Flag(name: .customLong("dry-run"), help: "Show what would change and change nothing.")
            var dryRun = false
            @Option(help: "A control-plane endpoint instead of AWS's (the local gateway, moto).")
            var endpoint: String?

            public init() {}

            public func run() async throws {
                let (gateway, secret, dryRun) = (gateway, secret, dryRun)
                try await Gateway.run(endpoint: endpoint) { try await $0.rotateSecret(gateway: gateway, secret: secret, dryRun: dryRun) }
            }
        }

        public struct AddRoute: AsyncParsableCommand {
            public static var configuration: CommandConfiguration {
                CommandConfiguration(
                    commandName: "add-route",
                    abstract: "Adds a route no controller declares, pointing at any allowed HTTP endpoint; the next apply creates it.")
            }

            @Option(name: [.customShort("g"), .long], help: "The gateway record's name (needed when there are several).")
            var gateway: String?
            @Option(name: .customLong("route-key"), help: "The route key.")
            var routeKey: String?
            @Option(name: .customLong("integration-url"), help: "Where API Gateway posts the route's messages.")
            var integrationURL: String?
            @Option(name: .customLong("route-name"), help: "A label for people (default: the route key).")
            var routeName: String?

            public init() {}

            public func run() async throws {
                let (gateway, routeKey, integrationURL, routeName) = (gateway, routeKey, integrationURL, routeName)
                try await Gateway.run {
                    try await $0.addRoute(gateway: gateway, routeKey: routeKey, integrationURL: integrationURL, routeName: routeName)
                }
            }
        }

        public struct RemoveRoute: AsyncParsableCommand {
            public static var configuration: CommandConfiguration {
                CommandConfiguration(commandName: "remove-route", abstract: "Removes an additional route; the next apply deletes it from API Gateway.")
            }

            @Option(name: [.customShort("g"), .long], help: "The gateway record's name (needed when there are several).")
            var gateway: String?
            @Option(name: .customLong("route-key"), help: "The route key.")
            var routeKey: String?

            public init() {}

            public func run() async throws {
                let (gateway, routeKey) = (gateway, routeKey)
                try await Gateway.run { try await $0.removeRoute(gateway: gateway, routeKey: routeKey) }
            }
        }
    }

    /// `publish --channel C | --user U --json '{…}' [--idempotency-key K] [--api ID]`: publishes a
    /// JSON object into a stream from a shell, a cron job or a deploy script while the app runs
    /// (it shares the app's database), and prints its position and whom the delivery reached.
    public struct Publish<Environment: GatewayCommandEnvironment>: AsyncParsableCommand {
        public static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "publish", abstract: "Publishes a JSON object to a channel or a user, with its position in their stream.")
        }

        @Option(help: "The channel to publish to.")
        var channel: String?
        @Option(help: "The user to publish to (every connection of theirs).")
        var user: String?
        @Option(help: "The message: a JSON object.")
        var json: String?
        @Option(name: .customLong("idempotency-key"), help: "A key that makes a repeated publish a no-op.")
        var idempotencyKey: String?
        @Option(help: "The API to publish through, when several are registered.")
        var api: String?

        public init() {}

        public func run() async throws {
            let (channel, user, json, idempotencyKey, api) = (channel, user, json, idempotencyKey, api)
            try await GatewayCLI.print(Environment.self) {
                try await $0.publish(channel: channel, user: user, json: json, idempotencyKey: idempotencyKey, api: api)
            }
        }
    }

    /// Writes `text` to standard output at once (also when it is a pipe or a file), ending it
    /// with a newline unless it ends with one.
    static func write(_ text: String, newline: Bool = true) {
        let terminated = newline && !text.hasSuffix("\n") ? text + "\n" : text
        FileHandle.standardOutput.write(Data(terminated.utf8))
    }
}
