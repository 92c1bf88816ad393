import APIGatewayAWS
import APIGatewayProvisioning
public import APIGatewayWebSockets
import FluentKit

extension GatewayProvisioner {
    /// Reads an existing API into the records: the gateway's settings and AWS ids, and every
    /// route no controller of this app declares as an additional route.
    ///
    /// - Parameters:
    ///   - apiID: the API to read.
    ///   - region: where it lives.
    ///   - name: the record's name; the API's name by default.
    ///   - stage: the stage to serve; the API's only stage by default.
    ///   - targetBaseURL: where API Gateway reaches this backend; found from the integration of
    ///     a route this app registered when nil.
    @discardableResult
    public func importAPI(_ apiID: APIID, region: String, name: String? = nil, stage: String? = nil, targetBaseURL: String? = nil)
        async throws -> GatewayModel
    {
        let client = client(region)
        let api = try await client.getApi(apiID.rawValue)
        if let type = api.protocolType, type != "WEBSOCKET" { throw ProvisioningError.notWebSocket(apiID, protocolType: type) }
        let stages = try await client.getStages(apiID.rawValue)
        let stageNames = stages.compactMap(\.stageName)
        let chosenStage: APIGatewayV2.Stage
        if let stage {
            guard let found = stages.first(where: { $0.stageName == stage }) else {
                throw ProvisioningError.unknownStage(stage, apiID: apiID, stages: stageNames)
            }
            chosenStage = found
        } else {
            guard stages.count == 1 else { throw ProvisioningError.ambiguousStage(apiID, stages: stageNames) }
            chosenStage = stages[0]
        }
        let integrations = try await client.getIntegrations(apiID.rawValue)
        let routes = try await client.getRoutes(apiID.rawValue)
        func uri(_ route: APIGatewayV2.Route) -> String? {
            guard let id = route.integrationId else { return nil }
            return integrations.first { $0.integrationId == id }?.integrationUri
        }
        let registered = registeredRoutes
        // A registered route's integration URI is the base URL followed by its path.
        let found = routes.lazy.compactMap { route -> String? in
            guard let uri = uri(route), let path = registered.first(where: { $0.routeKey.rawValue == route.routeKey })?.path,
                uri.hasSuffix(path)
            else { return nil }
            return String(uri.dropLast(path.count))
        }.first
        guard let base = targetBaseURL ?? found else { throw ProvisioningError.noBaseURL(apiID) }
        let db = try database()
        // Re-importing (or importing an API registered directly) updates its record.
        let existing = try await GatewayModel.query(on: db).filter(\.$apiID == apiID.rawValue).first()
        var settings = GatewaySettings(
            name: name ?? existing?.name ?? api.name ?? apiID.rawValue, description: api.description.flatMap { $0.isEmpty ? nil : $0 },
            targetBaseURL: base,
            routeSelectionExpression: api.routeSelectionExpression ?? "$request.body.action",
            apiKeySelectionExpression: api.apiKeySelectionExpression ?? "$request.header.x-api-key",
            stage: chosenStage.stageName ?? "production", stageDescription: chosenStage.description.flatMap { $0.isEmpty ? nil : $0 },
            region: region, tags: api.tags ?? [:]
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
                throw ProvisioningError.nameTaken(settings.name, apiID: apiID, recordedAs: existing.name)
            }
            existing.name = settings.name
            try await existing.save(on: db)
        }
        let model = try await configure(settings)
        model.apiID = apiID.rawValue
        model.apiEndpoint = api.apiEndpoint
        model.deploymentID = chosenStage.deploymentId
        model.status = .applied
        model.lastError = nil
        try await model.save(on: db)
        for route in routes {
            guard let raw = route.routeKey, let key = try? RouteKey(raw), !registered.contains(where: { $0.routeKey == key }),
                let url = uri(route)
            else { continue }
            let record = try await addRoute(AdditionalRoute(name: raw, routeKey: key, integrationURL: url), to: settings.name)
            record.routeID = route.routeId
            record.integrationID = route.integrationId
            record.deployed = chosenStage.deploymentId != nil
            try await record.save(on: db)
        }
        try await directory.reload()
        return try await self.model(named: settings.name)
    }
}
