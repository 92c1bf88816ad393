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
        let deployment = try access.deployment(context, endpoint: signature.endpoint)
        context.show(
            try await deployment.importAPI(
                apiID: signature.apiID, gateway: signature.gateway, stage: signature.stage, publicURL: signature.publicURL,
                region: signature.region))
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
        context.show(try await context.recordsDeployment().export(gateway: signature.gateway, format: signature.format))
    }
}
