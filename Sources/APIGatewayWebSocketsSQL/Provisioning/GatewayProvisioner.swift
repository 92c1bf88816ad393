public import APIGatewayAWS
public import APIGatewayProvisioning
public import APIGatewayWebSockets
public import FluentKit
import Foundation

/// The records-backed door onto the `Planner`: gateway settings and additional routes live in
/// `apigw_gateways` and `apigw_gateway_routes`; every AWS id an apply learns is written back as
/// the step that produced it succeeds, so an apply that stops resumes from the records instead of
/// creating a second API. One apply (or domain attach, or secret rotation) runs per gateway at a
/// time under a `GatewayClaim`.
///
/// Each action reads the gateway's record once and signs its control-plane calls for the
/// record's region. The `gateway` commands (Vapor's and `GatewayCLI`'s) use it, and so does the
/// admin page. It needs no web framework: the dispatcher (for the app's routes and
/// configuration), the database that holds the records, and the directory that serves them.
///
/// ```swift
/// let provisioner = GatewayProvisioner(dispatcher: dispatcher, directory: directory, database: database) { region in
///     ControlPlaneClient(httpClient: .shared, credentials: credentials, region: region)
/// }
/// ```
public struct GatewayProvisioner: Sendable {
    /// The app's dispatcher: its routes are the API's routes, its configuration the secret.
    public let dispatcher: GatewayDispatcher
    /// The control-plane client for a region.
    public let client: @Sendable (String) -> ControlPlaneClient
    /// What provisioning may do.
    public let options: ProvisioningOptions
    let database: @Sendable () throws -> any Database
    let directory: CachedGatewayDirectory

    /// - Parameters:
    ///   - dispatcher: the app's dispatcher, with its controllers registered.
    ///   - directory: the directory the dispatcher reads the records through (see
    ///     `CachedGatewayDirectory.gatewayRecords(in:)`); reloaded after every change, so the
    ///     app accepts an applied API's events at once.
    ///   - options: the integration hosts, two-way routes and guards provisioning may create.
    ///   - database: the database that holds the gateway records.
    ///   - client: the control-plane client for a region.
    public init(
        dispatcher: GatewayDispatcher, directory: CachedGatewayDirectory, options: ProvisioningOptions = ProvisioningOptions(),
        database: @escaping @Sendable () throws -> any Database, client: @escaping @Sendable (String) -> ControlPlaneClient
    ) {
        self.dispatcher = dispatcher
        self.directory = directory
        self.options = options
        self.database = database
        self.client = client
    }

    var registeredRoutes: [RegisteredRoute] { dispatcher.routes }

    // MARK: Records

    /// Creates the gateway record named `settings.name`, or updates it.
    /// - Throws: `ProvisioningError` (`ProvisioningError/Code/invalid`) listing every invalid
    ///   field; nothing is saved then.
    @discardableResult
    public func configure(_ settings: GatewaySettings) async throws -> GatewayModel {
        try settings.validate(allowedIntegrationHosts: options.allowedIntegrationHosts)
        let db = try database()
        let model = try await GatewayModel.query(on: db).filter(\.$name == settings.name).first() ?? GatewayModel(settings: settings)
        model.apply(settings)
        try await model.save(on: db)
        return model
    }

    /// The gateway record named `name`, with its additional routes.
    public func model(named name: String) async throws -> GatewayModel {
        guard let model = try await GatewayModel.query(on: database()).filter(\.$name == name).with(\.$routes).first() else {
            throw ProvisioningError.unknownGateway(name)
        }
        return model
    }

    /// The only gateway record, for commands run without `--gateway`.
    public func soleGatewayName() async throws -> String {
        let names = try await GatewayModel.query(on: database()).all(\.$name)
        guard names.count == 1 else { throw names.isEmpty ? ProvisioningError.noGateways() : .severalGateways(names) }
        return names[0]
    }

    /// Adds (or replaces, by route key) a route no controller declares.
    /// - Throws: `ProvisioningError` (`ProvisioningError/Code/invalid`) for an invalid field
    ///   or a key a controller already serves.
    @discardableResult
    public func addRoute(_ route: AdditionalRoute, to gatewayName: String) async throws -> GatewayRouteModel {
        try route.validate(allowedIntegrationHosts: options.allowedIntegrationHosts)
        if registeredRoutes.contains(where: { $0.routeKey == route.routeKey }) {
            throw ProvisioningError.servedByController(route.routeKey)
        }
        let gatewayID = try await model(named: gatewayName).requireID()
        let db = try database()
        let existing = try await GatewayRouteModel.query(on: db).filter(\.$gateway.$id == gatewayID)
            .filter(\.$routeKey == route.routeKey.rawValue).first()
        let model = existing ?? GatewayRouteModel(gatewayID: gatewayID, route: route)
        model.name = route.name
        model.integrationURL = route.integrationURL
        if existing != nil { model.deployed = false }
        try await model.save(on: db)
        return model
    }

    /// Removes an additional route's record; the next apply deletes it from API Gateway.
    public func removeRoute(_ routeKey: RouteKey, from gatewayName: String) async throws {
        let gatewayModel = try await model(named: gatewayName)
        guard let route = gatewayModel.routes.first(where: { $0.routeKey == routeKey.rawValue }) else {
            throw ProvisioningError.unknownRoute(routeKey, gateway: gatewayName)
        }
        try await route.delete(on: database())
    }

    // MARK: Planning

    /// The desired API for a record: the app's routes, the record's additional routes, the app's
    /// first secret.
    public func desired(for model: GatewayModel) throws -> DesiredAPI {
        let settings = model.settings
        try settings.validate(allowedIntegrationHosts: options.allowedIntegrationHosts)
        let configuration = dispatcher.configuration
        var desired = try DesiredAPI(
            settings: settings, routes: registeredRoutes, additionalRoutes: try model.routes.map { try $0.route },
            secretHeader: configuration.secretHeader.rawName, secret: configuration.secrets.first,
            twoWayRouteKeys: options.twoWayRouteKeys
        )
        desired.guards = options.guards
        if let identity = configuration.gatewayIdentity, let secret = configuration.secrets.first {
            desired.mapIdentity(identity, secret: secret)
        }
        return desired
    }

    /// The difference between the record (and the app's routes) and what API Gateway holds.
    public func plan(_ name: String) async throws -> Plan {
        try await plan(try await model(named: name))
    }

    /// The difference between `model` (read with ``model(named:)``) and what API Gateway holds.
    public func plan(_ model: GatewayModel) async throws -> Plan {
        let desired = try desired(for: model)
        let existing = try await model.apiID.map { try APIID($0) }.asyncMap {
            try await ExistingAPI.read($0, stage: desired.stage, client: client(model.region), for: desired)
        }
        return try Planner.plan(desired, existing: existing)
    }

    // MARK: Apply

    /// Plans and applies under the gateway's claim, recording each AWS id as its step succeeds.
    /// On success the API's events are accepted at once; on failure the record says `failed`
    /// with the error, and applying again resumes.
    /// - Throws: `ProvisioningError` (`ProvisioningError/Code/claimed`) while another apply
    ///   holds the claim; the failing step's error otherwise.
    /// - Parameters:
    ///   - name: the gateway record's name.
    ///   - onStep: told after each step succeeds and is recorded (progress for a person
    ///     watching; an error thrown here stops the apply like a failed step).
    @discardableResult
    public func apply(_ name: String, onStep: @escaping @Sendable (PlanStep) async throws -> Void = { _ in }) async throws
        -> Planner.Applied
    {
        try await withClaim(name, recordingOutcome: true) { claim, model in
            let plan = try await plan(model)
            let gatewayID = try model.requireID()
            let db = try database()
            let applied = try await Planner.apply(plan, client: client(model.region)) { step, progress in
                try await claim.renew()
                try await Self.record(step, progress, gatewayID: gatewayID, token: claim.token, on: db)
                try await onStep(step)
            }
            try await recordRoutes(applied.routes, of: model.routes)
            // The endpoint as API Gateway answers it now: a local gateway restarted on another
            // port serves the same API elsewhere, and the management endpoint follows it.
            if let endpoint = applied.apiEndpoint, endpoint != model.apiEndpoint {
                try await GatewayModel.query(on: db).filter(\.$id == gatewayID).filter(\.$claimToken == claim.token)
                    .set(\.$apiEndpoint, to: endpoint).update()
            }
            return applied
        }
    }

    /// Writes what one step produced, under the claim `token`.
    private static func record(_ step: PlanStep, _ progress: Planner.Progress, gatewayID: UUID, token: String, on db: any Database)
        async throws
    {
        let update = GatewayModel.query(on: db).filter(\.$id == gatewayID).filter(\.$claimToken == token)
        switch step.action {
        case .createAPI:
            try await update.set(\.$apiID, to: progress.apiID.rawValue).set(\.$apiEndpoint, to: progress.apiEndpoint).update()
        case .deploy:
            try await update.set(\.$deploymentID, to: progress.deploymentID).update()
        case .createIntegration(let key):
            try await GatewayRouteModel.query(on: db).filter(\.$gateway.$id == gatewayID).filter(\.$routeKey == key.rawValue)
                .set(\.$integrationID, to: progress.resourceID).set(\.$deployed, to: false).update()
        case .createRoute(let key, _):
            try await GatewayRouteModel.query(on: db).filter(\.$gateway.$id == gatewayID).filter(\.$routeKey == key.rawValue)
                .set(\.$routeID, to: progress.resourceID).set(\.$deployed, to: false).update()
        default:
            break
        }
    }

    /// Records API Gateway's route and integration ids, as the apply left them, in the additional
    /// route records.
    private func recordRoutes(_ routes: [RouteKey: Planner.RouteIDs], of records: [GatewayRouteModel]) async throws {
        let db = try database()
        for record in records {
            let ids = (try? RouteKey(record.routeKey)).flatMap { routes[$0] }
            record.routeID = ids?.routeID
            record.integrationID = ids?.integrationID
            record.deployed = ids != nil
            try await record.save(on: db)
        }
    }

    /// Runs `body` holding the gateway's claim with the record as read after claiming (an apply
    /// that finished just before may have created the API), then releases it. An apply records
    /// its outcome (`applied`, or `failed` with the error); other actions leave the status as it was.
    func withClaim<T: Sendable>(
        _ name: String, recordingOutcome: Bool, _ body: (GatewayClaim, GatewayModel) async throws -> T
    ) async throws -> T {
        let claim = try await GatewayClaim.take(name, timeout: options.claimTimeout, markingApplying: recordingOutcome, on: database())
        do {
            let result = try await body(claim, try await model(named: name))
            try await claim.release(outcome: recordingOutcome ? (.applied, nil) : nil)
            try await directory.reload()
            return result
        } catch {
            _ = try? await claim.release(outcome: recordingOutcome ? (.failed, error) : nil)
            _ = try? await directory.reload()
            throw error
        }
    }
}

// MARK: Custom domain, secret rotation

extension GatewayProvisioner {
    /// The custom-domain step: creates the domain name (with the record's certificate) and maps
    /// it to the stage, then records the domain target and mapping id. `dryRun` only plans.
    /// - Returns: the plan, and what to point DNS at.
    public func attachDomain(_ name: String, dryRun: Bool = false) async throws -> String {
        let model = try await model(named: name)
        guard let apiID = try model.apiID.map({ try APIID($0) }) else { throw ProvisioningError.notApplied(name) }
        guard let domain = try desired(for: model).customDomain else { throw ProvisioningError.noCustomDomain(name) }
        let client = client(model.region)
        if dryRun { return try await DomainPlan.plan(domain, apiID: apiID, stage: model.stage, client: client).description }
        let (plan, result) = try await withClaim(name, recordingOutcome: false) { claim, _ in
            let plan = try await DomainPlan.plan(domain, apiID: apiID, stage: model.stage, client: client)
            let result = try await plan.apply(client: client)
            try await GatewayModel.query(on: database()).filter(\.$name == name).filter(\.$claimToken == claim.token)
                .set(\.$domainTarget, to: result.domainTarget).set(\.$domainTargetZoneID, to: result.targetHostedZoneID)
                .set(\.$apiMappingID, to: result.apiMappingID).update()
            return (plan, result)
        }
        var lines = [plan.description]
        if let target = result.domainTarget {
            lines.append(
                "DNS: point \(domain.domainName) at \(target)"
                    + (result.targetHostedZoneID.map {
                        " (a Route 53 alias to hosted zone \($0)\(model.hostedZoneID.map { ", created in your zone \($0)" } ?? ""))"
                    } ?? "")
                    + ".")
        }
        lines.append("Clients connect to wss://\(domain.domainName)")
        return lines.joined(separator: "\n")
    }

    /// Makes every integration of the gateway's API send `newSecret` (by default the app's first
    /// accepted secret), then deploys. `dryRun` only lists the integrations that would change.
    /// - Throws: `ProvisioningError` (`ProvisioningError/Code/invalid`) when the app does not
    ///   accept `newSecret` yet: rotating to it would refuse every event.
    public func rotateSecret(_ name: String, to newSecret: String? = nil, dryRun: Bool = false) async throws -> SecretRotation {
        let configuration = dispatcher.configuration
        guard let secret = newSecret ?? configuration.secrets.first else { throw ProvisioningError.noSecret() }
        guard configuration.secrets.contains(secret) else { throw ProvisioningError.secretNotAccepted() }
        guard secret.count >= 16, secret.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "'" }) else {
            throw ProvisioningError.weakSecret()
        }
        let model = try await model(named: name)
        guard let apiID = try model.apiID.map({ try APIID($0) }) else { throw ProvisioningError.notApplied(name) }
        let header = configuration.secretHeader.rawName
        let client = client(model.region)
        if dryRun {
            return try await SecretRotation.plan(apiID: apiID, stage: model.stage, secretHeader: header, newSecret: secret, client: client)
        }
        return try await withClaim(name, recordingOutcome: false) { claim, _ in
            let rotation = try await SecretRotation.plan(
                apiID: apiID, stage: model.stage, secretHeader: header, newSecret: secret, client: client)
            if let deployment = try await rotation.apply(client: client) {
                try await GatewayModel.query(on: database()).filter(\.$name == name).filter(\.$claimToken == claim.token)
                    .set(\.$deploymentID, to: deployment).update()
            }
            return rotation
        }
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
