public import APIGatewayAWS
import APIGatewayWebSockets
import Foundation
public import Vapor

/// `gateway plan | apply | export`: the app's registered routes as API Gateway routes, through the
/// same planner the IaC exports and (later) the admin page use.
///
/// ```sh
/// swift run App gateway plan  --public-url https://backend.example.com --api-id abc123defg
/// swift run App gateway apply --public-url https://backend.example.com --name chat --stage production
/// swift run App gateway export --public-url https://backend.example.com --format terraform > ws.tf
/// ```
public struct GatewayCommand: AsyncCommand {
    public struct Signature: CommandSignature {
        @Argument(name: "action", help: "plan (show the difference), apply (make it so), or export (print IaC)")
        var action: String
        @Option(name: "public-url", help: "Where API Gateway reaches this backend, e.g. https://backend.example.com")
        var publicURL: String?
        @Option(name: "api-id", help: "The existing API to compare with; none creates a new one")
        var apiID: String?
        @Option(name: "name", help: "The API's name (default: app)")
        var name: String?
        @Option(name: "stage", help: "The stage (default: production)")
        var stage: String?
        @Option(name: "region", help: "The AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or us-east-1)")
        var region: String?
        @Option(name: "endpoint", help: "A control-plane endpoint to use instead of AWS's (the local gateway, moto)")
        var endpoint: String?
        @Option(name: "format", help: "export format: yaml (CloudFormation, default), json, terraform, console")
        var format: String?
        public init() {}
    }

    public init() {}

    public var help: String { "Plans, applies or exports the app's WebSocket routes as API Gateway routes and integrations." }

    public func run(using context: CommandContext, signature: Signature) async throws {
        guard let gateway = context.application.webSocketGateway else {
            throw Abort(.internalServerError, reason: "the app has no WebSocketGateway: create one before running `gateway`")
        }
        let region = signature.region ?? Environment.get("AWS_REGION") ?? Environment.get("AWS_DEFAULT_REGION") ?? "us-east-1"
        let client = ControlPlaneClient(
            httpClient: context.application.http.client.shared, credentials: CredentialProviderChain.default(httpClient: context.application.http.client.shared),
            region: region, endpoint: signature.endpoint
        )
        let output = try await Self.perform(
            signature.action, gateway: gateway, publicURL: signature.publicURL, apiID: signature.apiID, name: signature.name ?? "app",
            stage: signature.stage ?? "production", format: signature.format ?? "yaml", client: client
        )
        context.console.print(output)
    }

    /// What the command prints for `action`; `apply` performs the plan first.
    public static func perform(
        _ action: String, gateway: WebSocketGateway, publicURL: String?, apiID: String?, name: String, stage: String, format: String,
        client: ControlPlaneClient
    ) async throws -> String {
        guard let publicURL else { throw Abort(.badRequest, reason: "--public-url is required: where API Gateway reaches this backend") }
        let desired = DesiredAPI(
            name: name, stage: stage, routes: gateway.registeredRoutes, publicBaseURL: publicURL,
            secretHeader: gateway.dispatcher.configuration.secretHeader.rawName, secret: gateway.dispatcher.configuration.secrets.first
        )
        switch action {
        case "export":
            switch format {
            case "yaml": return InfrastructureExport.cloudFormationYAML(desired)
            case "json": return InfrastructureExport.cloudFormationJSON(desired)
            case "terraform", "hcl": return InfrastructureExport.terraform(desired)
            case "console": return InfrastructureExport.consoleChecklist(desired)
            default: throw Abort(.badRequest, reason: "unknown --format \(format): yaml, json, terraform or console")
            }
        case "plan", "apply":
            var existing: ExistingAPI?
            if let apiID { existing = try await ExistingAPI.read(apiID, stage: stage, client: client) }
            let plan = Planner.plan(desired, existing: existing)
            guard action == "apply", !plan.isEmpty else { return plan.description }
            let applied = try await Planner.apply(plan, client: client)
            return plan.description + "\nApplied to API \(applied), stage '\(stage)'. Record it: registerGateway(GatewayRecord(apiID: \"\(applied)\", …))."
        default:
            throw Abort(.badRequest, reason: "unknown action \(action): plan, apply or export")
        }
    }
}

/// `sessions clear [--older-than-days N]`: deletes disconnected sessions.
public struct SessionsCommand: AsyncCommand {
    public struct Signature: CommandSignature {
        @Argument(name: "action", help: "clear: delete disconnected sessions")
        var action: String
        @Option(name: "older-than-days", help: "Only those disconnected at least this many days ago (default 0)")
        var days: Int?
        public init() {}
    }

    public init() {}

    public var help: String { "Deletes disconnected WebSocket sessions." }

    public func run(using context: CommandContext, signature: Signature) async throws {
        guard signature.action == "clear" else { throw Abort(.badRequest, reason: "unknown action \(signature.action): clear") }
        guard let gateway = context.application.webSocketGateway else {
            throw Abort(.internalServerError, reason: "the app has no WebSocketGateway")
        }
        let cutoff = Date().addingTimeInterval(-Double(signature.days ?? 0) * 86_400)
        let purged = try await gateway.dispatcher.store.purgeDisconnected(before: cutoff)
        context.console.print("Deleted \(purged) disconnected session(s).")
    }
}
