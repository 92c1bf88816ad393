import APIGatewayAWS
import APIGatewayProvisioning
import APIGatewayWebSockets
public import APIGatewayWebSocketsSQL
import Foundation

/// What the `gateway` commands do, for any app and any command-line parser: the Vapor door's
/// `gateway` commands and the swift-argument-parser ones (``GatewayCLI/Gateway``) call these, so
/// the two print the same text and fail the same way. Each answers its output; a command whose
/// output is a document (`export`, `plan --format json|console`) answers the document alone, so
/// it can be redirected to a file.
public struct GatewayDeployment: Sendable {
    public let provisioner: GatewayProvisioner

    public init(provisioner: GatewayProvisioner) {
        self.provisioner = provisioner
    }

    /// The region a new record gets without `--region`: `AWS_REGION`, `AWS_DEFAULT_REGION`, or `us-east-1`.
    public static var defaultRegion: String {
        let environment = ProcessInfo.processInfo.environment
        return [environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"]].lazy.compactMap { $0 }.first { !$0.isEmpty } ?? "us-east-1"
    }

    /// The gateway named by `--gateway`, or the only one.
    func name(_ option: String?) async throws -> String {
        if let option { return option }
        return try await provisioner.soleGatewayName()
    }

    // MARK: Records

    /// The options of `gateway configure`; `nil` leaves a setting as it is, an empty text clears
    /// an optional one.
    public struct Changes: Sendable {
        public var publicURL, stage, description, stageDescription, defaultChannel, region: String?
        public var routeSelectionExpression, tags, domain, certificateARN, hostedZoneID: String?

        public init(
            publicURL: String? = nil, stage: String? = nil, description: String? = nil, stageDescription: String? = nil,
            defaultChannel: String? = nil, region: String? = nil, routeSelectionExpression: String? = nil, tags: String? = nil,
            domain: String? = nil, certificateARN: String? = nil, hostedZoneID: String? = nil
        ) {
            self.publicURL = publicURL
            self.stage = stage
            self.description = description
            self.stageDescription = stageDescription
            self.defaultChannel = defaultChannel
            self.region = region
            self.routeSelectionExpression = routeSelectionExpression
            self.tags = tags
            self.domain = domain
            self.certificateARN = certificateARN
            self.hostedZoneID = hostedZoneID
        }

        /// `settings` with these changes.
        func applied(to settings: GatewaySettings) throws -> GatewaySettings {
            func blankIsNil(_ value: String) -> String? { value.isEmpty ? nil : value }
            var settings = settings
            if let publicURL { settings.targetBaseURL = publicURL }
            if let stage { settings.stage = stage }
            if let description { settings.description = blankIsNil(description) }
            if let stageDescription { settings.stageDescription = blankIsNil(stageDescription) }
            if let defaultChannel { settings.defaultChannel = blankIsNil(defaultChannel) }
            if let region { settings.region = region }
            if let routeSelectionExpression { settings.routeSelectionExpression = routeSelectionExpression }
            if let domain { settings.customDomain = blankIsNil(domain) }
            if let certificateARN { settings.certificateARN = blankIsNil(certificateARN) }
            if let hostedZoneID { settings.hostedZoneID = blankIsNil(hostedZoneID) }
            if let tags {
                var parsed: [String: String] = [:]
                for pair in tags.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard parts.count == 2 else { throw GatewayCommandError.badTag(pair) }
                    parsed[parts[0]] = parts[1]
                }
                settings.tags = parsed
            }
            return settings
        }
    }

    /// `gateway configure --gateway NAME [options]`: creates or changes a gateway record.
    public func configure(gateway name: String?, _ changes: Changes) async throws -> String {
        guard let name else { throw GatewayCommandError.missing("--gateway NAME", for: "configure") }
        let existing = try? await provisioner.model(named: name)
        guard existing != nil || changes.publicURL != nil else {
            throw GatewayCommandError.missing("--public-url", for: "configure", "where API Gateway reaches this backend, for a new gateway")
        }
        let settings = try changes.applied(
            to: existing?.settings ?? GatewaySettings(name: name, targetBaseURL: "", region: Self.defaultRegion))
        let model = try await provisioner.configure(settings)
        return "Gateway '\(name)' saved (\(model.status.rawValue)): \(settings.targetBaseURL), stage '\(settings.stage)', \(settings.region)."
            + " Next: gateway plan --gateway \(name)"
    }

    /// `gateway status`: the record and what provisioning learned.
    public func status(gateway: String?) async throws -> String {
        let model = try await provisioner.model(named: try await name(gateway))
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
            lines.append("  route        \(route.routeKey) → POST \(route.integrationURL) (\(route.deployed ? "deployed" : "not deployed"))")
        }
        if let error = model.lastError { lines.append("  last error   \(error)") }
        return lines.joined(separator: "\n")
    }

    /// `gateway add-route --route-key KEY --integration-url URL [--route-name NAME]`.
    public func addRoute(gateway: String?, routeKey raw: String?, integrationURL url: String?, routeName: String?) async throws -> String {
        guard let raw, let url else { throw GatewayCommandError.missing("--route-key and --integration-url", for: "add-route") }
        let key = try Self.routeKey(raw)
        let name = try await name(gateway)
        try await provisioner.addRoute(AdditionalRoute(name: routeName ?? raw, routeKey: key, integrationURL: url), to: name)
        return "Route '\(key)' → POST \(url) added to gateway '\(name)'. Next: gateway plan --gateway \(name)"
    }

    /// `gateway remove-route --route-key KEY`.
    public func removeRoute(gateway: String?, routeKey raw: String?) async throws -> String {
        guard let raw else { throw GatewayCommandError.missing("--route-key", for: "remove-route") }
        let key = try Self.routeKey(raw)
        let name = try await name(gateway)
        try await provisioner.removeRoute(key, from: name)
        return "Route '\(key)' removed from gateway '\(name)'; the next apply deletes it from API Gateway."
    }

    static func routeKey(_ raw: String) throws -> RouteKey {
        do { return try RouteKey(raw) } catch { throw GatewayCommandError.invalid("--route-key", error) }
    }

    // MARK: Planning and applying

    /// `gateway plan [--format text|json|console]`: what apply would change; changes nothing.
    public func plan(gateway: String?, format: String?) async throws -> String {
        let format = format ?? "text"
        guard ["text", "json", "console"].contains(format) else {
            throw GatewayCommandError.unknownFormat(format, for: "plan", allowed: ["text", "json", "console"])
        }
        let model = try await provisioner.model(named: try await name(gateway))
        let plan = try await provisioner.plan(model)
        switch format {
        case "console": return InfrastructureExport.consoleChecklist(for: plan)
        case "json":
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try encoder.encode(PlanDocument(plan)), as: UTF8.self)
        default:
            guard model.status == .failed, let error = model.lastError else { return plan.description }
            return "The last apply failed: \(error)\nApplying again resumes from what it recorded.\n" + plan.description
        }
    }

    /// `gateway apply`: shows the plan (through `show`), asks `confirm` before deleting anything
    /// (it answers whether to go on; refused, nothing is applied), then applies step by step,
    /// showing each step as it is recorded.
    /// - Returns: where clients connect.
    public func apply(
        gateway: String?, show: @escaping @Sendable (String) -> Void, confirm: (_ deletions: Int) async throws -> Bool
    ) async throws -> String {
        let name = try await name(gateway)
        let plan = try await provisioner.plan(try await provisioner.model(named: name))
        show(plan.description)
        let deletions = plan.steps.filter(\.isDeletion).count
        if deletions > 0, try await !confirm(deletions) { throw GatewayCommandError.notConfirmed(deletions: deletions) }
        let applied = try await provisioner.apply(name) { step in show("done: \(step.summary)") }
        let stage = applied.plan.desired.stage
        return "Applied: API \(applied.apiID), stage '\(stage)'" + (applied.apiEndpoint.map { "; clients connect to \($0)/\(stage)" } ?? "")
            + "."
    }

    /// `gateway domain [--dry-run]`: the custom domain created and mapped; what DNS must point at.
    public func domain(gateway: String?, dryRun: Bool) async throws -> String {
        try await provisioner.attachDomain(try await name(gateway), dryRun: dryRun)
    }

    /// `gateway rotate-secret [--secret S] [--dry-run]`.
    public func rotateSecret(gateway: String?, secret: String?, dryRun: Bool) async throws -> String {
        let rotation = try await provisioner.rotateSecret(try await name(gateway), to: secret, dryRun: dryRun)
        return rotation.description + (dryRun || rotation.isEmpty ? "" : "\nRotated and deployed.")
    }

    // MARK: Exchange

    /// `gateway import --api-id ID [--gateway NAME] [--stage S] [--public-url URL] [--region R]`.
    public func importAPI(apiID raw: String?, gateway: String?, stage: String?, publicURL: String?, region: String?) async throws -> String {
        guard let raw else { throw GatewayCommandError.missing("--api-id", for: "import") }
        let apiID: APIID
        do { apiID = try APIID(raw) } catch { throw GatewayCommandError.invalid("--api-id", error) }
        let model = try await provisioner.importAPI(
            apiID, region: region ?? Self.defaultRegion, name: gateway, stage: stage, targetBaseURL: publicURL)
        return "Imported API \(apiID) as gateway '\(model.name)': stage '\(model.stage)', \(model.targetBaseURL), "
            + "\(model.routes.count) additional route(s)."
    }

    /// `gateway export [--format yaml|json|terraform|console]`: the API as infrastructure as code.
    public func export(gateway: String?, format: String?) async throws -> String {
        let desired = try provisioner.desired(for: try await provisioner.model(named: try await name(gateway)))
        switch format ?? "yaml" {
        case "yaml": return try InfrastructureExport.cloudFormationYAML(desired)
        case "json": return try InfrastructureExport.cloudFormationJSON(desired)
        case "terraform", "hcl": return InfrastructureExport.terraform(desired)
        case "console": return InfrastructureExport.consoleChecklist(desired)
        case let format: throw GatewayCommandError.unknownFormat(format, for: "export", allowed: ["yaml", "json", "terraform", "console"])
        }
    }
}
