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
        guard let name = signature.gateway else { throw GatewayCommandError.missing("--gateway NAME", for: "configure") }
        let provisioner = try context.recordsProvisioner()
        let existing = try? await provisioner.model(named: name)
        guard existing != nil || signature.publicURL != nil else {
            throw GatewayCommandError.missing("--public-url", for: "configure", "where API Gateway reaches this backend, for a new gateway")
        }
        var settings = existing?.settings ?? GatewaySettings(name: name, targetBaseURL: "", region: defaultRegion)
        try update(&settings, with: signature)
        let model = try await provisioner.configure(settings)
        context.console.print(
            "Gateway '\(name)' saved (\(model.status.rawValue)): \(settings.targetBaseURL), stage '\(settings.stage)', \(settings.region)."
                + " Next: gateway plan --gateway \(name)")
    }

    /// Applies the options a person gave to `settings`; an empty value clears an optional one.
    private func update(_ settings: inout GatewaySettings, with signature: Signature) throws {
        func blankIsNil(_ value: String) -> String? { value.isEmpty ? nil : value }
        if let value = signature.publicURL { settings.targetBaseURL = value }
        if let value = signature.stage { settings.stage = value }
        if let value = signature.description { settings.description = blankIsNil(value) }
        if let value = signature.stageDescription { settings.stageDescription = blankIsNil(value) }
        if let value = signature.defaultChannel { settings.defaultChannel = blankIsNil(value) }
        if let value = signature.region { settings.region = value }
        if let value = signature.routeSelectionExpression { settings.routeSelectionExpression = value }
        if let value = signature.domain { settings.customDomain = blankIsNil(value) }
        if let value = signature.certificateARN { settings.certificateARN = blankIsNil(value) }
        if let value = signature.hostedZoneID { settings.hostedZoneID = blankIsNil(value) }
        if let value = signature.tags {
            var tags: [String: String] = [:]
            for pair in value.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { throw GatewayCommandError.badTag(pair) }
                tags[parts[0]] = parts[1]
            }
            settings.tags = tags
        }
    }
}

/// The region a new record gets without `--region`.
var defaultRegion: String { Environment.get("AWS_REGION") ?? Environment.get("AWS_DEFAULT_REGION") ?? "us-east-1" }

/// `gateway status`: the record and what provisioning learned.
struct GatewayStatusCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "gateway", short: "g", help: "The gateway record's name (needed when there are several)")
        var gateway: String?
        init() {}
    }

    var help: String { "Shows a gateway record: its settings, its API in API Gateway, its routes and the last error." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let provisioner = try context.recordsProvisioner()
        let model = try await provisioner.model(named: try await context.gatewayName(signature.gateway, provisioner))
        context.console.print(Self.describe(model))
    }

    static func describe(_ model: GatewayModel) -> String {
        var lines = [
            "Gateway '\(model.name)': \(model.status.rawValue)\(model.claimToken == nil ? "" : " (an apply holds the claim)")",
            "  target       \(model.targetBaseURL.isEmpty ? "not set" : model.targetBaseURL)",
            "  stage        \(model.stage) in \(model.region)",
            "  API          \(model.apiID ?? "not created")\(model.apiEndpoint.map { " at \($0)" } ?? "")",
            "  deployment   \(model.deploymentID ?? "none")",
        ]
        if let domain = model.customDomain {
            lines.append(
                "  domain       \(domain) → \(model.domainTarget ?? "not created")\(model.apiMappingID.map { ", mapping \($0)" } ?? "")")
        }
        for route in model.routes.sorted(by: { $0.routeKey < $1.routeKey }) {
            lines.append(
                "  route        \(route.routeKey) → POST \(route.integrationURL) (\(route.deployed ? "deployed" : "not deployed"))")
        }
        if let error = model.lastError { lines.append("  last error   \(error)") }
        return lines.joined(separator: "\n")
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
        guard let raw = signature.routeKey, let url = signature.integrationURL else {
            throw GatewayCommandError.missing("--route-key and --integration-url", for: "add-route")
        }
        let key = try routeKey(raw)
        let provisioner = try context.recordsProvisioner()
        let name = try await context.gatewayName(signature.gateway, provisioner)
        try await provisioner.addRoute(AdditionalRoute(name: signature.routeName ?? raw, routeKey: key, integrationURL: url), to: name)
        context.console.print("Route '\(key)' → POST \(url) added to gateway '\(name)'. Next: gateway plan --gateway \(name)")
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
        guard let raw = signature.routeKey else { throw GatewayCommandError.missing("--route-key", for: "remove-route") }
        let key = try routeKey(raw)
        let provisioner = try context.recordsProvisioner()
        let name = try await context.gatewayName(signature.gateway, provisioner)
        try await provisioner.removeRoute(key, from: name)
        context.console.print("Route '\(key)' removed from gateway '\(name)'; the next apply deletes it from API Gateway.")
    }
}

/// `--route-key` as a route key.
func routeKey(_ raw: String) throws -> RouteKey {
    do { return try RouteKey(raw) } catch { throw GatewayCommandError.invalid("--route-key", error) }
}
