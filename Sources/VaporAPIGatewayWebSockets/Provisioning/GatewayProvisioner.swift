public import APIGatewayAWS
public import APIGatewayWebSockets
public import FluentKit
import Foundation
import SQLKit
public import Vapor

/// What provisioning may do, set on the ``WebSocketGateway``.
public struct ProvisioningOptions: Sendable {
    /// When not empty, the only hosts a gateway's target base URL or an additional route's
    /// integration URL may name.
    public var allowedIntegrationHosts: Set<String>
    /// Routes whose HTTP answer API Gateway sends back to the client (a `$default` route response).
    public var twoWayRouteKeys: Set<String>
    /// An apply's claim older than this is taken to be from a process that died.
    public var claimTimeout: TimeInterval

    public init(allowedIntegrationHosts: Set<String> = [], twoWayRouteKeys: Set<String> = [], claimTimeout: TimeInterval = 15 * 60) {
        self.allowedIntegrationHosts = Set(allowedIntegrationHosts.map { $0.lowercased() })
        self.twoWayRouteKeys = twoWayRouteKeys
        self.claimTimeout = claimTimeout
    }
}

/// Why a provisioning action did not run, with the status an HTTP door answers.
public struct ProvisioningError: AbortError, CustomStringConvertible {
    public let status: HTTPResponseStatus
    public let reason: String
    public var description: String { reason }

    static func unknownGateway(_ name: String) -> Self {
        Self(status: .notFound, reason: "no gateway named '\(name)': create it with `gateway configure --gateway \(name) --public-url …`")
    }
    static func notApplied(_ name: String) -> Self {
        Self(status: .conflict, reason: "gateway '\(name)' has no API yet: run `gateway apply --gateway \(name)` first")
    }
    static func invalid(_ error: ProvisioningValidationError) -> Self { Self(status: .badRequest, reason: error.description) }
}

/// The records-backed door onto the ``Planner``: gateway settings and additional routes live in
/// `apigw_gateways` and `apigw_gateway_routes`; every AWS id an apply learns is written back as
/// the step that produced it succeeds, so an apply that stops resumes from the records instead of
/// creating a second API. One apply (or secret rotation) runs per gateway at a time: each takes a
/// claim on the row with a conditional `UPDATE`, and a second one is refused while it is held.
///
/// The `gateway` command uses it, and so will the admin page.
public struct GatewayProvisioner: Sendable {
    public let gateway: WebSocketGateway
    public let client: ControlPlaneClient
    private let database: @Sendable () -> any Database

    public init(gateway: WebSocketGateway, client: ControlPlaneClient) {
        self.gateway = gateway
        self.client = client
        self.database = gateway.database
    }

    var options: ProvisioningOptions { gateway.provisioning }

    // MARK: Records

    /// Creates the gateway record named `settings.name`, or updates it.
    /// - Throws: ``ProvisioningError`` (400) listing every invalid field; nothing is saved then.
    @discardableResult
    public func configure(_ settings: GatewaySettings) async throws -> GatewayModel {
        do { try settings.validate(allowedIntegrationHosts: options.allowedIntegrationHosts) } catch let error
            as ProvisioningValidationError
        {
            throw ProvisioningError.invalid(error)
        }
        let db = database()
        let model = try await GatewayModel.query(on: db).filter(\.$name == settings.name).first() ?? GatewayModel(settings: settings)
        model.apply(settings)
        try await model.save(on: db)
        return model
    }

    /// The gateway record named `name`.
    public func model(named name: String) async throws -> GatewayModel {
        guard let model = try await GatewayModel.query(on: database()).filter(\.$name == name).with(\.$routes).first() else {
            throw ProvisioningError.unknownGateway(name)
        }
        return model
    }

    /// The only gateway record, for commands run without `--gateway`.
    public func soleGatewayName() async throws -> String {
        let names = try await GatewayModel.query(on: database()).all(\.$name)
        guard names.count == 1 else {
            throw Abort(
                .badRequest,
                reason: names.isEmpty
                    ? "no gateway records yet: create one with `gateway configure --gateway NAME --public-url URL`"
                    : "several gateways (\(names.sorted().joined(separator: ", "))): choose one with --gateway")
        }
        return names[0]
    }

    /// Adds (or replaces, by route key) a route no controller declares.
    /// - Throws: ``ProvisioningError`` (400) for an invalid field or a key a controller already serves.
    @discardableResult
    public func addRoute(_ route: AdditionalRoute, to gatewayName: String) async throws -> GatewayRouteModel {
        do {
            try route.validate(allowedIntegrationHosts: options.allowedIntegrationHosts)
        } catch let error as ProvisioningValidationError {
            throw ProvisioningError.invalid(error)
        }
        if gateway.registeredRoutes.contains(where: { $0.routeKey.rawValue == route.routeKey }) {
            throw ProvisioningError(status: .badRequest, reason: "routeKey: '\(route.routeKey)' is served by a controller of this app")
        }
        let gatewayModel = try await model(named: gatewayName)
        let db = database()
        let gatewayID = try gatewayModel.requireID()
        let existing = try await GatewayRouteModel.query(on: db).filter(\.$gateway.$id == gatewayID).filter(\.$routeKey == route.routeKey)
            .first()
        let model = existing ?? GatewayRouteModel(gatewayID: gatewayID, route: route)
        model.name = route.name
        model.integrationURL = route.integrationURL
        if existing != nil { model.deployed = false }
        try await model.save(on: db)
        return model
    }

    /// Removes an additional route's record; the next apply deletes it from API Gateway.
    public func removeRoute(_ routeKey: String, from gatewayName: String) async throws {
        let gatewayModel = try await model(named: gatewayName)
        guard let route = gatewayModel.routes.first(where: { $0.routeKey == routeKey }) else {
            throw ProvisioningError(status: .notFound, reason: "gateway '\(gatewayName)' has no additional route '\(routeKey)'")
        }
        try await route.delete(on: database())
    }

    // MARK: Planning

    /// The desired API for a record: the app's routes, the record's additional routes, the app's
    /// first secret.
    public func desired(for model: GatewayModel) throws -> DesiredAPI {
        do {
            let settings = model.settings
            try settings.validate(allowedIntegrationHosts: options.allowedIntegrationHosts)
            let configuration = gateway.dispatcher.configuration
            return try DesiredAPI(
                settings: settings, routes: gateway.registeredRoutes, additionalRoutes: model.routes.map(\.route),
                secretHeader: configuration.secretHeader.rawName, secret: configuration.secrets.first,
                twoWayRouteKeys: options.twoWayRouteKeys
            )
        } catch let error as ProvisioningValidationError {
            throw ProvisioningError.invalid(error)
        }
    }

    /// The difference between the record (and the app's routes) and what API Gateway holds.
    public func plan(_ name: String) async throws -> Plan {
        let model = try await model(named: name)
        return try await plan(model)
    }

    private func plan(_ model: GatewayModel) async throws -> Plan {
        let desired = try desired(for: model)
        var existing: ExistingAPI?
        if let apiID = model.apiID { existing = try await ExistingAPI.read(apiID, stage: desired.stage, client: client) }
        return Planner.plan(desired, existing: existing)
    }

    // MARK: Apply

    /// What an apply did.
    public struct Applied: Sendable {
        public let plan: Plan
        public let apiID: String
    }

    /// Plans and applies under the gateway's claim, recording each AWS id as its step succeeds.
    /// On success the API's events are accepted at once; on failure the record says `failed`
    /// with the error, and applying again resumes.
    /// - Throws: ``ProvisioningError`` (409) while another apply holds the claim; the failing
    ///   step's error otherwise.
    /// - Parameter onStep: told after each step succeeds and is recorded (progress for a person
    ///   watching; an error thrown here stops the apply like a failed step).
    @discardableResult
    public func apply(_ name: String, onStep: @escaping @Sendable (PlanStep) async throws -> Void = { _ in }) async throws -> Applied {
        try await withClaim(name) { token in
            // Read after claiming: an apply that finished just before may have created the API.
            let model = try await model(named: name)
            let plan = try await plan(model)
            let gatewayID = try model.requireID()
            let db = database()
            let apiID: String
            if plan.isEmpty, let existing = model.apiID {
                apiID = existing
            } else {
                apiID = try await Planner.apply(plan, client: client) { step, progress in
                    try await holdClaim(name, token: token)
                    try await Self.record(step, progress, gatewayID: gatewayID, token: token, on: db)
                    try await onStep(step)
                }
            }
            try await syncRoutes(gatewayID: gatewayID, apiID: apiID, deployed: true)
            return Applied(plan: plan, apiID: apiID)
        }
    }

    /// Writes what one step produced, under the claim `token`.
    private static func record(_ step: PlanStep, _ progress: Planner.Progress, gatewayID: UUID, token: String, on db: any Database)
        async throws
    {
        let update = GatewayModel.query(on: db).filter(\.$id == gatewayID).filter(\.$claimToken == token)
        switch step.action {
        case .createAPI:
            try await update.set(\.$apiID, to: progress.apiId).set(\.$apiEndpoint, to: progress.apiEndpoint).update()
        case .deploy:
            try await update.set(\.$deploymentID, to: progress.deploymentId).update()
        case .createIntegration(let key):
            try await GatewayRouteModel.query(on: db).filter(\.$gateway.$id == gatewayID).filter(\.$routeKey == key)
                .set(\.$integrationID, to: progress.resourceId).set(\.$deployed, to: false).update()
        case .createRoute(let key, _):
            try await GatewayRouteModel.query(on: db).filter(\.$gateway.$id == gatewayID).filter(\.$routeKey == key)
                .set(\.$routeID, to: progress.resourceId).set(\.$deployed, to: false).update()
        default:
            break
        }
    }

    /// Copies API Gateway's route and integration ids into the additional route records.
    private func syncRoutes(gatewayID: UUID, apiID: String, deployed: Bool) async throws {
        let db = database()
        let records = try await GatewayRouteModel.query(on: db).filter(\.$gateway.$id == gatewayID).all()
        guard !records.isEmpty else { return }
        let routes = try await client.getRoutes(apiID)
        for record in records {
            let route = routes.first { $0.routeKey == record.routeKey }
            record.routeID = route?.routeId
            record.integrationID = route?.integrationId
            record.deployed = deployed && route != nil
            try await record.save(on: db)
        }
    }

    /// Runs `body` holding the gateway's claim, then releases it. An apply records its outcome
    /// (`applied`, or `failed` with the error); other actions leave the status as it was.
    private func withClaim<T: Sendable>(_ name: String, recordingOutcome: Bool = true, _ body: (String) async throws -> T) async throws -> T
    {
        let token = UUID().uuidString
        try await claim(name, token: token, markingApplying: recordingOutcome)
        let db = database()
        func release(_ status: GatewayModel.Status, error: (any Error)?) async throws {
            var update = GatewayModel.query(on: db).filter(\.$name == name).filter(\.$claimToken == token)
                .set(\.$claimToken, to: nil).set(\.$claimedAt, to: nil)
            if recordingOutcome {
                update = update.set(\.$status, to: status).set(\.$lastError, to: error.map { String(describing: $0) })
            }
            try await update.update()
        }
        do {
            let result = try await body(token)
            try await release(.applied, error: nil)
            try await gateway.directory.reload()
            return result
        } catch {
            _ = try? await release(.failed, error: error)
            _ = try? await gateway.directory.reload()
            throw error
        }
    }

    /// Renews the claim after a step, so a long apply is not taken for a dead one.
    /// - Throws: ``ProvisioningError`` (409) when another apply took the claim over: this one
    ///   stops rather than race it.
    private func holdClaim(_ name: String, token: String) async throws {
        guard let sql = database() as? any SQLDatabase else { return }
        let renewed = try await sql.raw(
            """
            UPDATE \(ident: GatewayModel.schema) SET claimed_at = \(bind: Int64(Date().timeIntervalSince1970))
            WHERE name = \(bind: name) AND claim_token = \(bind: token)
            RETURNING name
            """
        ).all()
        guard renewed.isEmpty else { return }
        throw ProvisioningError(
            status: .conflict,
            reason:
                "gateway '\(name)': another apply took over this one's claim (older than \(Int(options.claimTimeout)) s); this apply stopped"
        )
    }

    /// Takes the claim with one conditional `UPDATE … RETURNING`: it succeeds only when no claim
    /// is held, or the one held is older than the timeout.
    /// - Parameter markingApplying: set the status to `applying` (an apply); other actions leave it.
    private func claim(_ name: String, token: String, markingApplying: Bool) async throws {
        guard let sql = database() as? any SQLDatabase else {
            throw Abort(.internalServerError, reason: "provisioning needs an SQL database for its claim")
        }
        let now = Int64(Date().timeIntervalSince1970)
        let stale = now - Int64(options.claimTimeout)
        let status: SQLQueryString = markingApplying ? ", status = \(bind: GatewayModel.Status.applying.rawValue)" : ""
        let claimed = try await sql.raw(
            """
            UPDATE \(ident: GatewayModel.schema) SET claim_token = \(bind: token), claimed_at = \(bind: now)\(status)
            WHERE name = \(bind: name) AND (claim_token IS NULL OR claimed_at < \(bind: stale))
            RETURNING name
            """
        ).all()
        guard claimed.isEmpty else { return }
        let holder = try await model(named: name)
        let since = holder.claimedAt.map { Date(timeIntervalSince1970: TimeInterval($0)) }
        throw ProvisioningError(
            status: .conflict,
            reason: "gateway '\(name)' is being applied by another process\(since.map { " since \($0.formatted(.iso8601))" } ?? ""); "
                + "try again when it finishes (a claim older than \(Int(options.claimTimeout)) s is taken over)"
        )
    }
}

// MARK: Custom domain, import, secret rotation

extension GatewayProvisioner {
    /// The custom-domain step: creates the domain name (with the record's certificate) and maps
    /// it to the stage, then records the domain target and mapping id. `dryRun` only plans.
    /// - Returns: the plan, and what to point DNS at.
    public func attachDomain(_ name: String, dryRun: Bool = false) async throws -> String {
        let model = try await model(named: name)
        guard let apiID = model.apiID else { throw ProvisioningError.notApplied(name) }
        guard let domain = try desired(for: model).customDomain else {
            throw ProvisioningError(
                status: .badRequest,
                reason: "gateway '\(name)' has no custom domain: set --domain and --certificate-arn with `gateway configure`")
        }
        if dryRun { return try await DomainPlan.plan(domain, apiId: apiID, stage: model.stage, client: client).description }
        let (plan, result) = try await withClaim(name, recordingOutcome: false) { token in
            let plan = try await DomainPlan.plan(domain, apiId: apiID, stage: model.stage, client: client)
            let result = try await plan.apply(client: client)
            try await GatewayModel.query(on: database()).filter(\.$name == name).filter(\.$claimToken == token)
                .set(\.$domainTarget, to: result.domainTarget).set(\.$domainTargetZoneID, to: result.targetHostedZoneId)
                .set(\.$apiMappingID, to: result.apiMappingId).update()
            return (plan, result)
        }
        var lines = [plan.description]
        if let target = result.domainTarget {
            lines.append(
                "DNS: point \(domain.domainName) at \(target)"
                    + (result.targetHostedZoneId.map {
                        " (a Route 53 alias to hosted zone \($0)\(model.hostedZoneID.map { ", created in your zone \($0)" } ?? ""))"
                    } ?? "")
                    + ".")
        }
        lines.append("Clients connect to wss://\(domain.domainName)")
        return lines.joined(separator: "\n")
    }

    /// Reads an existing API into the records: the gateway's settings and AWS ids, and every
    /// route no controller of this app declares as an additional route.
    ///
    /// - Parameters:
    ///   - apiID: the API to read.
    ///   - name: the record's name; the API's name by default.
    ///   - stage: the stage to serve; the API's only stage by default.
    ///   - targetBaseURL: where API Gateway reaches this backend; found from the integration of
    ///     a route this app registered when nil.
    @discardableResult
    public func importAPI(_ apiID: String, name: String? = nil, stage: String? = nil, targetBaseURL: String? = nil) async throws
        -> GatewayModel
    {
        let api = try await client.getApi(apiID)
        guard api.protocolType == nil || api.protocolType == "WEBSOCKET" else {
            throw ProvisioningError(status: .badRequest, reason: "API \(apiID) is \(api.protocolType!), not a WebSocket API")
        }
        let stages = try await client.getStages(apiID)
        let chosenStage: APIGatewayV2.Stage
        if let stage {
            guard let found = stages.first(where: { $0.stageName == stage }) else {
                throw ProvisioningError(
                    status: .notFound,
                    reason: "API \(apiID) has no stage '\(stage)' (it has: \(stages.compactMap(\.stageName).joined(separator: ", ")))")
            }
            chosenStage = found
        } else {
            guard stages.count == 1 else {
                throw ProvisioningError(
                    status: .badRequest,
                    reason:
                        "API \(apiID) has \(stages.count) stages (\(stages.compactMap(\.stageName).joined(separator: ", "))): choose one with --stage"
                )
            }
            chosenStage = stages[0]
        }
        let integrations = try await client.getIntegrations(apiID)
        let routes = try await client.getRoutes(apiID)
        func uri(_ route: APIGatewayV2.Route) -> String? {
            guard let id = route.integrationId else { return nil }
            return integrations.first { $0.integrationId == id }?.integrationUri
        }
        let registered = gateway.registeredRoutes
        var base = targetBaseURL
        if base == nil {
            // A registered route's integration URI is the base URL followed by its path.
            for route in routes {
                guard let uri = uri(route), let path = registered.first(where: { $0.routeKey.rawValue == route.routeKey })?.path,
                    uri.hasSuffix(path)
                else { continue }
                base = String(uri.dropLast(path.count))
                break
            }
        }
        guard let base else {
            throw ProvisioningError(
                status: .badRequest,
                reason: "no route of API \(apiID) points at a route this app registers: give the backend's URL with --public-url")
        }
        let db = database()
        // Re-importing (or importing an API registered directly) updates its record.
        let existing = try await GatewayModel.query(on: db).filter(\.$apiID == apiID).first()
        var settings = GatewaySettings(
            name: name ?? existing?.name ?? api.name ?? apiID, description: api.description.flatMap { $0.isEmpty ? nil : $0 },
            targetBaseURL: base,
            routeSelectionExpression: api.routeSelectionExpression ?? "$request.body.action",
            apiKeySelectionExpression: api.apiKeySelectionExpression ?? "$request.header.x-api-key",
            stage: chosenStage.stageName ?? "production", stageDescription: chosenStage.description.flatMap { $0.isEmpty ? nil : $0 },
            region: client.region, tags: api.tags ?? [:]
        )
        if let existing {
            settings.defaultChannel = existing.defaultChannel
            settings.customDomain = existing.customDomain
            settings.certificateARN = existing.certificateARN
            settings.hostedZoneID = existing.hostedZoneID
        }
        if let existing, existing.name != settings.name {
            // Renamed by --gateway: the record keeps its id, rows and routes.
            if try await GatewayModel.query(on: db).filter(\.$name == settings.name).first() != nil {
                throw ProvisioningError(
                    status: .conflict, reason: "another gateway is named '\(settings.name)'; API \(apiID) is recorded as '\(existing.name)'"
                )
            }
            existing.name = settings.name
            try await existing.save(on: db)
        }
        let model = try await configure(settings)
        model.apiID = apiID
        model.apiEndpoint = api.apiEndpoint
        model.deploymentID = chosenStage.deploymentId
        model.status = .applied
        model.lastError = nil
        try await model.save(on: db)
        for route in routes {
            guard let key = route.routeKey, !registered.contains(where: { $0.routeKey.rawValue == key }), let url = uri(route) else {
                continue
            }
            let record = try await addRoute(AdditionalRoute(name: key, routeKey: key, integrationURL: url), to: settings.name)
            record.routeID = route.routeId
            record.integrationID = route.integrationId
            record.deployed = chosenStage.deploymentId != nil
            try await record.save(on: db)
        }
        try await gateway.directory.reload()
        return try await self.model(named: settings.name)
    }

    /// Makes every integration of the gateway's API send `newSecret` (by default the app's first
    /// accepted secret), then deploys. `dryRun` only lists the integrations that would change.
    /// - Throws: ``ProvisioningError`` (400) when the app does not accept `newSecret` yet:
    ///   rotating to it would refuse every event.
    public func rotateSecret(_ name: String, to newSecret: String? = nil, dryRun: Bool = false) async throws -> SecretRotation {
        let configuration = gateway.dispatcher.configuration
        guard let secret = newSecret ?? configuration.secrets.first else {
            throw ProvisioningError(
                status: .badRequest, reason: "no secret to rotate to: give --secret, or list one in GatewayConfiguration.secrets")
        }
        guard configuration.secrets.contains(secret) else {
            throw ProvisioningError(
                status: .badRequest,
                reason:
                    "the app does not accept this secret yet: add it to GatewayConfiguration.secrets (first) and restart before rotating, or every event would be refused"
            )
        }
        guard secret.count >= 16, secret.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "'" }) else {
            throw ProvisioningError(
                status: .badRequest, reason: "the secret must be at least 16 printable ASCII characters without spaces or quotes")
        }
        let model = try await model(named: name)
        guard let apiID = model.apiID else { throw ProvisioningError.notApplied(name) }
        let header = configuration.secretHeader.rawName
        if dryRun {
            return try await SecretRotation.plan(apiId: apiID, stage: model.stage, secretHeader: header, newSecret: secret, client: client)
        }
        return try await withClaim(name, recordingOutcome: false) { token in
            let rotation = try await SecretRotation.plan(
                apiId: apiID, stage: model.stage, secretHeader: header, newSecret: secret, client: client)
            if let deployment = try await rotation.apply(client: client) {
                try await GatewayModel.query(on: database()).filter(\.$name == name).filter(\.$claimToken == token).set(
                    \.$deploymentID, to: deployment
                ).update()
            }
            return rotation
        }
    }
}
