import APIGatewayWebSocketsCommands
import APIGatewayProvisioning
import APIGatewayWebSockets
import Foundation
import Vapor

/// `gateway plan`: the difference between the app's routes and API Gateway's.
struct PlanGatewayCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "gateway", short: "g", help: "The gateway record's name (needed when there are several)")
        var gateway: String?
        @Option(name: "format", help: "text (default), json (for scripts) or console (the changes as console steps)")
        var format: String?
        @Option(name: "endpoint", help: "A control-plane endpoint instead of AWS's (the local gateway, moto)")
        var endpoint: String?
        init() {}
    }

    let access: ControlPlaneAccess

    var help: String { "Shows what apply would change in API Gateway, and changes nothing." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let deployment = try access.deployment(context, endpoint: signature.endpoint)
        context.show(try await deployment.plan(gateway: signature.gateway, format: signature.format))
    }
}

/// `gateway apply`.
struct ApplyGatewayCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "gateway", short: "g", help: "The gateway record's name (needed when there are several)")
        var gateway: String?
        @Option(name: "endpoint", help: "A control-plane endpoint instead of AWS's (the local gateway, moto)")
        var endpoint: String?
        init() {}
    }

    let access: ControlPlaneAccess

    var help: String {
        "Shows the plan, asks before deleting anything, then makes API Gateway match the app's routes step by step, recording every id; an apply that stopped resumes."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let deployment = try access.deployment(context, endpoint: signature.endpoint)
        let console = context.console
        let applied = try await deployment.apply(gateway: signature.gateway, show: { console.print($0) }) { deletions in
            // `--yes` (`-y`), ConsoleKit's answer to every confirmation, applies without asking;
            // `--no` refuses. Otherwise the person types `yes`; no answer (a closed input, a script) is no.
            if let override = console.confirmOverride { return override }
            console.output("Delete \(deletions) route(s) from API Gateway? Type 'yes' to apply: ".consoleText(), newLine: false)
            // ConsoleKit's terminal traps at the end of its input, so a closed one is read here.
            let answer = console is Terminal ? readLine() : console.input()
            return answer?.trimmingCharacters(in: .whitespaces).lowercased() == "yes"
        }
        context.console.print(applied)
    }
}

/// `gateway domain`.
struct GatewayDomainCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "gateway", short: "g", help: "The gateway record's name (needed when there are several)")
        var gateway: String?
        @Flag(name: "dry-run", help: "Show what would change and change nothing")
        var dryRun: Bool
        @Option(name: "endpoint", help: "A control-plane endpoint instead of AWS's (the local gateway, moto)")
        var endpoint: String?
        init() {}
    }

    let access: ControlPlaneAccess

    var help: String { "Creates the custom domain (with its certificate) and maps it to the stage; prints what DNS must point at." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let deployment = try access.deployment(context, endpoint: signature.endpoint)
        context.show(try await deployment.domain(gateway: signature.gateway, dryRun: signature.dryRun))
    }
}

/// `gateway rotate-secret`.
struct RotateGatewaySecretCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "gateway", short: "g", help: "The gateway record's name (needed when there are several)")
        var gateway: String?
        @Option(name: "secret", help: "The new secret (default: the app's first accepted secret)")
        var secret: String?
        @Flag(name: "dry-run", help: "Show what would change and change nothing")
        var dryRun: Bool
        @Option(name: "endpoint", help: "A control-plane endpoint instead of AWS's (the local gateway, moto)")
        var endpoint: String?
        init() {}
    }

    let access: ControlPlaneAccess

    var help: String { "Makes every integration send a new gateway secret, then deploys." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let deployment = try access.deployment(context, endpoint: signature.endpoint)
        context.show(try await deployment.rotateSecret(gateway: signature.gateway, secret: signature.secret, dryRun: signature.dryRun))
    }
}
