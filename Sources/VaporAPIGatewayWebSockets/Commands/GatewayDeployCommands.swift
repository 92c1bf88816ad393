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
        let format = signature.format ?? "text"
        guard ["text", "json", "console"].contains(format) else {
            throw GatewayCommandError.unknownFormat(format, for: "plan", allowed: ["text", "json", "console"])
        }
        let provisioner = try access.provisioner(context, endpoint: signature.endpoint)
        let model = try await provisioner.model(named: try await context.gatewayName(signature.gateway, provisioner))
        let plan = try await provisioner.plan(model)
        if format == "console" { return context.console.print(InfrastructureExport.consoleChecklist(for: plan), newLine: false) }
        if format == "json" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return context.console.print(String(decoding: try encoder.encode(PlanDocument(plan)), as: UTF8.self))
        }
        guard model.status == .failed, let error = model.lastError else { return context.console.print(plan.description) }
        context.console.print("The last apply failed: \(error)\nApplying again resumes from what it recorded.\n" + plan.description)
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
        let provisioner = try access.provisioner(context, endpoint: signature.endpoint)
        let name = try await context.gatewayName(signature.gateway, provisioner)
        let plan = try await provisioner.plan(try await provisioner.model(named: name))
        context.console.print(plan.description)
        let deletions = plan.steps.filter(\.isDeletion).count
        // `--yes` (`-y`), ConsoleKit's answer to every confirmation, applies without asking; `--no`
        // refuses. Otherwise the person types `yes`; no answer (a closed input, a script) is no.
        if deletions > 0 && context.console.confirmOverride != true {
            guard context.console.confirmOverride == nil else { throw GatewayCommandError.notConfirmed(deletions: deletions) }
            let prompt = "Delete \(deletions) route(s) from API Gateway? Type 'yes' to apply: "
            context.console.output(prompt.consoleText(), newLine: false)
            guard context.console.input().trimmingCharacters(in: .whitespaces).lowercased() == "yes" else {
                throw GatewayCommandError.notConfirmed(deletions: deletions)
            }
        }
        let applied = try await provisioner.apply(name) { step in context.console.print("done: \(step.summary)") }
        let stage = applied.plan.desired.stage
        context.console.print(
            "Applied: API \(applied.apiID), stage '\(stage)'" + (applied.apiEndpoint.map { "; clients connect to \($0)/\(stage)" } ?? "")
                + ".")
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
        let provisioner = try access.provisioner(context, endpoint: signature.endpoint)
        let name = try await context.gatewayName(signature.gateway, provisioner)
        context.console.print(try await provisioner.attachDomain(name, dryRun: signature.dryRun))
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
        let provisioner = try access.provisioner(context, endpoint: signature.endpoint)
        let name = try await context.gatewayName(signature.gateway, provisioner)
        let rotation = try await provisioner.rotateSecret(name, to: signature.secret, dryRun: signature.dryRun)
        context.console.print(rotation.description + (signature.dryRun || rotation.isEmpty ? "" : "\nRotated and deployed."))
    }
}
