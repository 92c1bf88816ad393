public import APIGatewayAWS
import APIGatewayWebSockets
import Foundation
public import Vapor

/// `gateway <action>`: the gateway records and the app's registered routes as API Gateway routes,
/// through the same planner the IaC exports and the admin page use.
///
/// ```sh
/// swift run App gateway configure --gateway chat --public-url https://backend.example.com --stage production
/// swift run App gateway plan   --gateway chat
/// swift run App gateway apply  --gateway chat
/// swift run App gateway export --gateway chat --format terraform > ws.tf
/// swift run App gateway --help
/// ```
public struct GatewayCommand: AsyncCommand {
    public struct Signature: CommandSignature {
        @Argument(
            name: "action",
            help: """
                configure (create or change the gateway record), status (show it), plan (show the difference from API Gateway), \
                apply (make it so), domain (custom domain and mapping), import (read an existing API into the records), \
                export (CloudFormation or Terraform), rotate-secret (new gateway secret on every integration), \
                add-route / remove-route (a route no controller declares)
                """)
        var action: String
        @Option(name: "gateway", short: "g", help: "The gateway record's name (needed when there are several)")
        var gateway: String?
        @Option(name: "public-url", help: "configure, import: where API Gateway reaches this backend, e.g. https://backend.example.com")
        var publicURL: String?
        @Option(name: "stage", help: "configure, import: the stage (default production)")
        var stage: String?
        @Option(name: "description", help: "configure: the API's description")
        var description: String?
        @Option(name: "stage-description", help: "configure: the stage's description")
        var stageDescription: String?
        @Option(name: "default-channel", help: "configure: the channel a connection joins when it names none")
        var defaultChannel: String?
        @Option(name: "region", help: "configure, import: the AWS region (default AWS_REGION, AWS_DEFAULT_REGION or us-east-1)")
        var region: String?
        @Option(name: "route-selection-expression", help: "configure: default $request.body.action")
        var routeSelectionExpression: String?
        @Option(name: "tags", help: "configure: the API's tags, as key=value,key=value (empty: none)")
        var tags: String?
        @Option(name: "domain", help: "configure: a custom domain, e.g. ws.example.com")
        var domain: String?
        @Option(name: "certificate-arn", help: "configure: the ACM certificate for --domain")
        var certificateARN: String?
        @Option(name: "hosted-zone-id", help: "configure: the Route 53 hosted zone of --domain")
        var hostedZoneID: String?
        @Option(name: "api-id", help: "import: the API to read")
        var apiID: String?
        @Option(name: "route-key", help: "add-route, remove-route: the route key")
        var routeKey: String?
        @Option(name: "integration-url", help: "add-route: where API Gateway posts the route's messages")
        var integrationURL: String?
        @Option(name: "route-name", help: "add-route: a label for people (default: the route key)")
        var routeName: String?
        @Option(
            name: "format",
            help:
                "export: yaml (CloudFormation, default), json, terraform or console; plan: text (default) or console (the changes as console steps)"
        )
        var format: String?
        @Option(name: "secret", help: "rotate-secret: the new secret (default: the app's first accepted secret)")
        var secret: String?
        @Flag(name: "dry-run", help: "domain, rotate-secret: show what would change and change nothing")
        var dryRun: Bool
        @Option(name: "endpoint", help: "A control-plane endpoint instead of AWS's (the local gateway, moto)")
        var endpoint: String?
        public init() {}
    }

    private let credentials: (any CredentialProvider)?

    /// - Parameter credentials: what signs the control-plane calls; by default the usual chain
    ///   (environment, `~/.aws` files, container, instance metadata).
    public init(credentials: (any CredentialProvider)? = nil) {
        self.credentials = credentials
    }

    public var help: String { "Configures, plans, applies and exports the app's WebSocket API in API Gateway." }

    public func run(using context: CommandContext, signature: Signature) async throws {
        guard let gateway = context.application.webSocketGateway else {
            throw Abort(.internalServerError, reason: "the app has no WebSocketGateway: create one before running `gateway`")
        }
        let http = context.application.http.client.shared
        let credentials = self.credentials ?? CredentialProviderChain.default(httpClient: http)
        let output = try await Self.perform(signature.action, options: Options(signature), gateway: gateway) { region in
            ControlPlaneClient(httpClient: http, credentials: credentials, region: region, endpoint: signature.endpoint)
        }
        context.console.print(output)
    }

    /// The command's options, apart from the action.
    public struct Options: Sendable {
        public var gateway: String?
        public var publicURL: String?
        public var stage: String?
        public var description: String?
        public var stageDescription: String?
        public var defaultChannel: String?
        public var region: String?
        public var routeSelectionExpression: String?
        public var tags: String?
        public var domain: String?
        public var certificateARN: String?
        public var hostedZoneID: String?
        public var apiID: String?
        public var routeKey: String?
        public var integrationURL: String?
        public var routeName: String?
        public var format: String?
        public var secret: String?
        public var dryRun = false

        public init(gateway: String? = nil) { self.gateway = gateway }

        init(_ signature: Signature) {
            self.init(gateway: signature.gateway)
            publicURL = signature.publicURL
            stage = signature.stage
            description = signature.description
            stageDescription = signature.stageDescription
            defaultChannel = signature.defaultChannel
            region = signature.region
            routeSelectionExpression = signature.routeSelectionExpression
            tags = signature.tags
            domain = signature.domain
            certificateARN = signature.certificateARN
            hostedZoneID = signature.hostedZoneID
            apiID = signature.apiID
            routeKey = signature.routeKey
            integrationURL = signature.integrationURL
            routeName = signature.routeName
            format = signature.format
            secret = signature.secret
            dryRun = signature.dryRun
        }
    }

    /// What the command prints for `action`.
    /// - Parameter client: the control-plane client for a region.
    public static func perform(
        _ action: String, options: Options, gateway: WebSocketGateway, client: (String) -> ControlPlaneClient
    ) async throws -> String {
        let defaultRegion = options.region ?? Environment.get("AWS_REGION") ?? Environment.get("AWS_DEFAULT_REGION") ?? "us-east-1"
        let bare = GatewayProvisioner(gateway: gateway, client: client(defaultRegion))
        func named() async throws -> String {
            if let name = options.gateway { return name }
            return try await bare.soleGatewayName()
        }
        /// A provisioner whose client signs for the record's region.
        func provisioner(_ name: String) async throws -> GatewayProvisioner {
            GatewayProvisioner(gateway: gateway, client: client(try await bare.model(named: name).region))
        }
        switch action {
        case "configure":
            guard let name = options.gateway else { throw Abort(.badRequest, reason: "configure needs --gateway NAME") }
            let existing = try? await bare.model(named: name)
            var settings = existing?.settings ?? GatewaySettings(name: name, targetBaseURL: "", region: defaultRegion)
            guard existing != nil || options.publicURL != nil else {
                throw Abort(.badRequest, reason: "--public-url is required for a new gateway: where API Gateway reaches this backend")
            }
            try update(&settings, with: options)
            let model = try await bare.configure(settings)
            return
                "Gateway '\(name)' saved (\(model.status.rawValue)): \(settings.targetBaseURL), stage '\(settings.stage)', \(settings.region)."
                + " Next: gateway plan --gateway \(name)"
        case "plan":
            let name = try await named()
            let planned = try await provisioner(name).plan(name)
            switch options.format {
            case nil, "text": break
            case "console": return InfrastructureExport.consoleChecklist(for: planned)
            case let format?: throw Abort(.badRequest, reason: "unknown --format \(format) for plan: text or console")
            }
            let plan = planned.description
            let model = try await bare.model(named: name)
            guard model.status == .failed, let error = model.lastError else { return plan }
            return "The last apply failed: \(error)\nApplying again resumes from what it recorded.\n" + plan
        case "status":
            let name = try await named()
            return describe(try await bare.model(named: name))
        case "apply":
            let name = try await named()
            let applied = try await provisioner(name).apply(name)
            let served = try await bare.model(named: name)
            return applied.plan.description + "\nApplied: API \(applied.apiID), stage '\(served.stage)'"
                + (served.apiEndpoint.map { "; clients connect to \($0)/\(served.stage)" } ?? "") + "."
        case "domain":
            let name = try await named()
            return try await provisioner(name).attachDomain(name, dryRun: options.dryRun)
        case "import":
            guard let apiID = options.apiID else { throw Abort(.badRequest, reason: "import needs --api-id") }
            let model = try await bare.importAPI(apiID, name: options.gateway, stage: options.stage, targetBaseURL: options.publicURL)
            return "Imported API \(apiID) as gateway '\(model.name)': stage '\(model.stage)', \(model.targetBaseURL), "
                + "\(model.routes.count) additional route(s)."
        case "export":
            let name = try await named()
            let desired = try bare.desired(for: try await bare.model(named: name))
            switch options.format ?? "yaml" {
            case "yaml": return InfrastructureExport.cloudFormationYAML(desired)
            case "json": return InfrastructureExport.cloudFormationJSON(desired)
            case "terraform", "hcl": return InfrastructureExport.terraform(desired)
            case "console": return InfrastructureExport.consoleChecklist(desired)
            case let format: throw Abort(.badRequest, reason: "unknown --format \(format): yaml, json, terraform or console")
            }
        case "rotate-secret":
            let name = try await named()
            let rotation = try await provisioner(name).rotateSecret(name, to: options.secret, dryRun: options.dryRun)
            return rotation.description + (options.dryRun || rotation.isEmpty ? "" : "\nRotated and deployed.")
        case "add-route":
            guard let key = options.routeKey, let url = options.integrationURL else {
                throw Abort(.badRequest, reason: "add-route needs --route-key and --integration-url")
            }
            let name = try await named()
            try await bare.addRoute(AdditionalRoute(name: options.routeName ?? key, routeKey: key, integrationURL: url), to: name)
            return "Route '\(key)' → POST \(url) added to gateway '\(name)'. Next: gateway plan --gateway \(name)"
        case "remove-route":
            guard let key = options.routeKey else { throw Abort(.badRequest, reason: "remove-route needs --route-key") }
            let name = try await named()
            try await bare.removeRoute(key, from: name)
            return "Route '\(key)' removed from gateway '\(name)'; the next apply deletes it from API Gateway."
        default:
            throw Abort(
                .badRequest,
                reason:
                    "unknown action \(action): configure, status, plan, apply, domain, import, export, rotate-secret, add-route or remove-route"
            )
        }
    }

    /// The record as `gateway status` prints it.
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

    /// Applies the options a person gave to `settings`.
    static func update(_ settings: inout GatewaySettings, with options: Options) throws {
        func blankIsNil(_ value: String) -> String? { value.isEmpty ? nil : value }
        if let value = options.publicURL { settings.targetBaseURL = value }
        if let value = options.stage { settings.stage = value }
        if let value = options.description { settings.description = blankIsNil(value) }
        if let value = options.stageDescription { settings.stageDescription = blankIsNil(value) }
        if let value = options.defaultChannel { settings.defaultChannel = blankIsNil(value) }
        if let value = options.region { settings.region = value }
        if let value = options.routeSelectionExpression { settings.routeSelectionExpression = value }
        if let value = options.domain { settings.customDomain = blankIsNil(value) }
        if let value = options.certificateARN { settings.certificateARN = blankIsNil(value) }
        if let value = options.hostedZoneID { settings.hostedZoneID = blankIsNil(value) }
        if let value = options.tags {
            var tags: [String: String] = [:]
            for pair in value.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { throw Abort(.badRequest, reason: "--tags: '\(pair)' is not key=value") }
                tags[parts[0]] = parts[1]
            }
            settings.tags = tags
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
