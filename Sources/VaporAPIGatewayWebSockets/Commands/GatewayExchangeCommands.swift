import APIGatewayWebSocketsCommands
import APIGatewayProvisioning
import APIGatewayWebSockets
import Vapor

/// `gateway import`: an existing API read into the records.
struct ImportGatewayCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "api-id", help: "The API to read")
        var apiID: String?
        @Option(name: "gateway", short: "g", help: "The record's name (default: the API's name)")
        var gateway: String?
        @Option(name: "stage", help: "The stage to serve (default: the API's only stage)")
        var stage: String?
        @Option(name: "public-url", help: "Where API Gateway reaches this backend (default: found from a registered route)")
        var publicURL: String?
        @Option(name: "region", help: "The API's region (default AWS_REGION, AWS_DEFAULT_REGION or us-east-1)")
        var region: String?
        @Option(name: "endpoint", help: "A control-plane endpoint instead of AWS's (the local gateway, moto)")
        var endpoint: String?
        init() {}
    }

    let access: ControlPlaneAccess

    var help: String { "Reads an existing API into the gateway records, its extra routes as additional routes." }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let raw = signature.apiID else { throw GatewayCommandError.missing("--api-id", for: "import") }
        let apiID: APIID
        do { apiID = try APIID(raw) } catch { throw GatewayCommandError.invalid("--api-id", error) }
        let provisioner = try access.provisioner(context, endpoint: signature.endpoint)
        let model = try await provisioner.importAPI(
            apiID, region: signature.region ?? defaultRegion, name: signature.gateway, stage: signature.stage,
            targetBaseURL: signature.publicURL)
        context.console.print(
            "Imported API \(apiID) as gateway '\(model.name)': stage '\(model.stage)', \(model.targetBaseURL), "
                + "\(model.routes.count) additional route(s).")
    }
}

/// `gateway export`: the desired API as infrastructure as code, alone on standard output.
struct ExportGatewayCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "gateway", short: "g", help: "The gateway record's name (needed when there are several)")
        var gateway: String?
        @Option(name: "format", help: "yaml (CloudFormation, default), json (CloudFormation), terraform or console")
        var format: String?
        init() {}
    }

    var help: String { "Writes the API as CloudFormation (YAML or JSON), Terraform, or console steps, to standard output." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let provisioner = try context.recordsProvisioner()
        let desired = try provisioner.desired(
            for: try await provisioner.model(named: try await context.gatewayName(signature.gateway, provisioner)))
        let text: String
        switch signature.format ?? "yaml" {
        case "yaml": text = try InfrastructureExport.cloudFormationYAML(desired)
        case "json": text = try InfrastructureExport.cloudFormationJSON(desired)
        case "terraform", "hcl": text = InfrastructureExport.terraform(desired)
        case "console": text = InfrastructureExport.consoleChecklist(desired)
        case let format: throw GatewayCommandError.unknownFormat(format, for: "export", allowed: ["yaml", "json", "terraform", "console"])
        }
        context.console.print(text, newLine: false)
    }
}
