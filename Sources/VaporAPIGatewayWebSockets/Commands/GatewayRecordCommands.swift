import APIGatewayWebSocketsCommands
import APIGatewayProvisioning
import APIGatewayWebSockets
import Foundation
import Vapor

/// `gateway configure`: creates or changes a gateway record.
struct ConfigureGatewayCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "gateway", short: "g", help: "The gateway record's name")
        var gateway: String?
        @Option(
            name: "public-url", help: "Where API Gateway reaches this backend, e.g. https://backend.example.com (needed for a new gateway)")
        var publicURL: String?
        @Option(name: "stage", help: "The stage (default production)")
        var stage: String?
        @Option(name: "description", help: "The API's description (empty: none)")
        var description: String?
        @Option(name: "stage-description", help: "The stage's description (empty: none)")
        var stageDescription: String?
        @Option(name: "default-channel", help: "The channel a connection joins when it names none (empty: none)")
        var defaultChannel: String?
        @Option(name: "region", help: "The AWS region (default AWS_REGION, AWS_DEFAULT_REGION or us-east-1)")
        var region: String?
        @Option(name: "route-selection-expression", help: "Default $request.body.action")
        var routeSelectionExpression: String?
        @Option(name: "tags", help: "The API's tags, as key=value,key=value (empty: none)")
        var tags: String?
        @Option(name: "domain", help: "A custom domain, e.g. ws.example.com (empty: none)")
        var domain: String?
        @Option(name: "certificate-arn", help: "The ACM certificate for --domain")
        var certificateARN: String?
        @Option(name: "hosted-zone-id", help: "The Route 53 hosted zone of --domain")
        var hostedZoneID: String?
        init() {}
    }

    var help: String { "Creates or changes a gateway record: where API Gateway reaches this backend, the stage, tags, a custom domain." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let changes = GatewayDeployment.Changes(
            publicURL: signature.publicURL, stage: signature.stage, description: signature.description,
            stageDescription: signature.stageDescription, defaultChannel: signature.defaultChannel, region: signature.region,
            routeSelectionExpression: signature.routeSelectionExpression, tags: signature.tags, domain: signature.domain,
            certificateARN: signature.certificateARN, hostedZoneID: signature.hostedZoneID)
        context.show(try await context.recordsDeployment().configure(gateway: signature.gateway, changes))
    }
}

/// `gateway status`: the record and what provisioning learned.
struct GatewayStatusCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "gateway", short: "g", help: "The gateway record's name (needed when there are several)")
        var gateway: String?
        init() {}
    }

    var help: String { "Shows a gateway record: its settings, its API in API Gateway, its routes and the last error." }

    func run(using context: CommandContext, signature: Signature) async throws {
        context.show(try await context.recordsDeployment().status(gateway: signature.gateway))
    }
}

/// `gateway add-route`: a route no controller declares.
struct AddGatewayRouteCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "gateway", short: "g", help: "The gateway record's name (needed when there are several)")
        var gateway: String?
        @Option(name: "route-key", help: "The route key")
        var routeKey: String?
        @Option(name: "integration-url", help: "Where API Gateway posts the route's messages")
        var integrationURL: String?
        @Option(name: "route-name", help: "A label for people (default: the route key)")
        var routeName: String?
        init() {}
    }

    var help: String { "Adds a route no controller declares, pointing at any allowed HTTP endpoint; the next apply creates it." }

    func run(using context: CommandContext, signature: Signature) async throws {
        context.show(
            try await context.recordsDeployment().addRoute(
                gateway: signature.gateway, routeKey: signature.routeKey, integrationURL: signature.integrationURL,
                routeName: signature.routeName))
    }
}

/// `gateway remove-route`.
struct RemoveGatewayRouteCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "gateway", short: "g", help: "The gateway record's name (needed when there are several)")
        var gateway: String?
        @Option(name: "route-key", help: "The route key")
        var routeKey: String?
        init() {}
    }

    var help: String { "Removes an additional route; the next apply deletes it from API Gateway." }

    func run(using context: CommandContext, signature: Signature) async throws {
        context.show(try await context.recordsDeployment().removeRoute(gateway: signature.gateway, routeKey: signature.routeKey))
    }
}
