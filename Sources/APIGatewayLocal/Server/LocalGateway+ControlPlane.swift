import Foundation
import NIOCore
import NIOHTTP1

/// The API Gateway v2 REST endpoints provisioning needs, in botocore's wire format: APIs,
/// integrations, routes, route responses, stages, deployments, domain names and API mappings, with create, get, list
/// (paginated by `maxResults`/`nextToken`), update and delete. Requests are SigV4-signed for
/// the service `apigateway`; state persists in the state file.
extension LocalGateway {
    func controlPlane(head: HTTPRequestHead, body: ByteBuffer, parts: [String]) async -> LocalResponse {
        if configuration.verifiesSignatures,
            let problem = verifier.problem(
                method: head.method.rawValue, uri: head.uri, headers: head.headers, body: body.readableBytesView,
                service: "apigateway")
        {
            return .awsError(.forbidden, "ForbiddenException", problem.message)
        }
        let input: [String: Any]
        if body.readableBytes == 0 {
            input = [:]
        } else if let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] {
            input = object
        } else {
            return .awsError(.badRequest, "BadRequestException", "the body is not a JSON object")
        }
        let query = Self.queryItems(head.uri)
        do {
            if parts.first == "tags", parts.count == 2 {
                return try tags(
                    head.method, arn: parts[1].removingPercentEncoding ?? parts[1], input, removing: Self.queryValues(head.uri, "tagKeys"))
            }
            return try route(head.method, parts, input, query, host: head.headers.first(name: "Host"))
        } catch let error as ControlPlaneError {
            return .awsError(error.status, error.type, error.message)
        } catch {
            return .awsError(.internalServerError, "InternalServerException", "\(error)")
        }
    }

    struct ControlPlaneError: Error {
        let status: HTTPResponseStatus
        let type: String
        let message: String
        static func notFound(_ what: String) -> ControlPlaneError {
            .init(status: .notFound, type: "NotFoundException", message: "Invalid \(what) identifier specified")
        }
        static func badRequest(_ message: String) -> ControlPlaneError {
            .init(status: .badRequest, type: "BadRequestException", message: message)
        }
        static func conflict(_ message: String) -> ControlPlaneError {
            .init(status: .conflict, type: "ConflictException", message: message)
        }
    }

    private func route(_ method: HTTPMethod, _ parts: [String], _ input: [String: Any], _ query: [String: String], host: String?) throws
        -> LocalResponse
    {
        if parts.first == "domainnames" { return try domainNames(method, Array(parts.dropFirst()), input, query) }
        guard parts.first == "apis" else { throw ControlPlaneError.notFound("resource") }
        let endpoint = "ws://\(host ?? "\(configuration.host):\(port ?? configuration.port)")"
        switch (method, parts.count) {
        case (.POST, 1): return try createAPI(input, endpoint: endpoint)
        case (.GET, 1): return page(currentAPIs.sorted { $0.createdDate < $1.createdDate }.map { apiJSON($0, endpoint: endpoint) }, query)
        default: break
        }
        let apiId = parts[1]
        guard var api = api(apiId) else { throw ControlPlaneError.notFound("API") }
        if parts.count == 2 {
            switch method {
            case .GET: return .ok(apiJSON(api, endpoint: endpoint))
            case .PATCH:
                for key in ["name", "routeSelectionExpression", "apiKeySelectionExpression", "description"] {
                    if let value = input[key] as? String {
                        switch key {
                        case "name": api.name = value
                        case "routeSelectionExpression": api.routeSelectionExpression = value
                        case "apiKeySelectionExpression": api.apiKeySelectionExpression = value
                        default: api.description = value
                        }
                    }
                }
                if let flag = input["disableSchemaValidation"] as? Bool { api.disableSchemaValidation = flag }
                try register(api)
                return .ok(apiJSON(api, endpoint: endpoint))
            case .DELETE:
                try state.update { $0.apis[apiId] = nil }
                return LocalResponse(status: .noContent)
            default: throw ControlPlaneError.notFound("method")
            }
        }
        let collection = parts[2]
        let itemID = parts.count > 3 ? parts[3] : nil
        switch collection {
        case "integrations":
            return try crud(
                method, itemID, input, query, api: &api,
                list: { $0.integrations.values.sorted { $0.integrationId < $1.integrationId }.map(integrationJSON) },
                create: { api, input in
                    guard let type = input["integrationType"] as? String else {
                        throw ControlPlaneError.badRequest("integrationType is required")
                    }
                    var integration = LocalIntegration(
                        integrationId: Self.makeID(), integrationUri: input["integrationUri"] as? String ?? "")
                    integration.integrationType = type
                    Self.apply(input, to: &integration)
                    api.integrations[integration.integrationId] = integration
                    return integrationJSON(integration)
                },
                get: { api, id in try api.integrations[id].map(integrationJSON) ?? { throw ControlPlaneError.notFound("Integration") }() },
                update: { api, id, input in
                    guard var integration = api.integrations[id] else { throw ControlPlaneError.notFound("Integration") }
                    Self.apply(input, to: &integration)
                    api.integrations[id] = integration
                    return integrationJSON(integration)
                },
                delete: { api, id in
                    guard api.integrations.removeValue(forKey: id) != nil else { throw ControlPlaneError.notFound("Integration") }
                })
        case "routes" where parts.count >= 5 && parts[4] == "routeresponses":
            let routeId = parts[3]
            guard api.routes[routeId] != nil else { throw ControlPlaneError.notFound("Route") }
            let responseID = parts.count > 5 ? parts[5] : nil
            return try crud(
                method, responseID, input, query, api: &api,
                list: { ($0.routeResponses[routeId] ?? []).map(routeResponseJSON) },
                create: { api, input in
                    guard let key = input["routeResponseKey"] as? String else {
                        throw ControlPlaneError.badRequest("routeResponseKey is required")
                    }
                    let response = LocalRouteResponse(
                        routeResponseId: Self.makeID(), routeResponseKey: key,
                        modelSelectionExpression: input["modelSelectionExpression"] as? String)
                    api.routeResponses[routeId, default: []].append(response)
                    return routeResponseJSON(response)
                },
                get: { api, id in
                    try (api.routeResponses[routeId] ?? []).first { $0.routeResponseId == id }.map(routeResponseJSON)
                        ?? { throw ControlPlaneError.notFound("RouteResponse") }()
                },
                update: { api, id, input in
                    guard let index = api.routeResponses[routeId]?.firstIndex(where: { $0.routeResponseId == id }) else {
                        throw ControlPlaneError.notFound("RouteResponse")
                    }
                    if let key = input["routeResponseKey"] as? String { api.routeResponses[routeId]![index].routeResponseKey = key }
                    return routeResponseJSON(api.routeResponses[routeId]![index])
                },
                delete: { api, id in
                    guard let index = api.routeResponses[routeId]?.firstIndex(where: { $0.routeResponseId == id }) else {
                        throw ControlPlaneError.notFound("RouteResponse")
                    }
                    api.routeResponses[routeId]!.remove(at: index)
                })
        case "routes":
            return try crud(
                method, itemID, input, query, api: &api,
                list: { $0.routes.values.sorted { $0.routeKey < $1.routeKey }.map(routeJSON) },
                create: { api, input in
                    guard let key = input["routeKey"] as? String, !key.isEmpty else {
                        throw ControlPlaneError.badRequest("routeKey is required")
                    }
                    guard api.route(key) == nil else {
                        throw ControlPlaneError.conflict("Route with key \(key) already exists for this API")
                    }
                    var route = LocalRoute(
                        routeId: Self.makeID(), routeKey: key, target: input["target"] as? String,
                        routeResponseSelectionExpression: input["routeResponseSelectionExpression"] as? String)
                    Self.apply(input, to: &route)
                    api.routes[route.routeId] = route
                    return routeJSON(route)
                },
                get: { api, id in try api.routes[id].map(routeJSON) ?? { throw ControlPlaneError.notFound("Route") }() },
                update: { api, id, input in
                    guard var route = api.routes[id] else { throw ControlPlaneError.notFound("Route") }
                    if let key = input["routeKey"] as? String { route.routeKey = key }
                    if let target = input["target"] as? String { route.target = target }
                    if let expression = input["routeResponseSelectionExpression"] as? String {
                        route.routeResponseSelectionExpression = expression
                    }
                    Self.apply(input, to: &route)
                    api.routes[id] = route
                    return routeJSON(route)
                },
                delete: { api, id in
                    guard api.routes.removeValue(forKey: id) != nil else { throw ControlPlaneError.notFound("Route") }
                    api.routeResponses[id] = nil
                })
        case "stages":
            return try crud(
                method, itemID, input, query, api: &api,
                list: { $0.stages.values.sorted { $0.stageName < $1.stageName }.map(stageJSON) },
                create: { api, input in
                    guard let name = input["stageName"] as? String, !name.isEmpty else {
                        throw ControlPlaneError.badRequest("stageName is required")
                    }
                    guard api.stages[name] == nil else { throw ControlPlaneError.conflict("Stage \(name) already exists") }
                    var stage = LocalStage(stageName: name)
                    Self.apply(input, to: &stage)
                    api.stages[name] = stage
                    return stageJSON(stage)
                },
                get: { api, id in try api.stages[id].map(stageJSON) ?? { throw ControlPlaneError.notFound("Stage") }() },
                update: { api, id, input in
                    guard var stage = api.stages[id] else { throw ControlPlaneError.notFound("Stage") }
                    Self.apply(input, to: &stage)
                    stage.lastUpdatedDate = Date()
                    api.stages[id] = stage
                    return stageJSON(stage)
                },
                delete: { api, id in
                    guard api.stages.removeValue(forKey: id) != nil else { throw ControlPlaneError.notFound("Stage") }
                })
        case "deployments":
            return try crud(
                method, itemID, input, query, api: &api,
                list: { $0.deployments.values.sorted { $0.createdDate < $1.createdDate }.map(deploymentJSON) },
                create: { api, input in
                    var deployment = LocalDeployment(deploymentId: Self.makeID())
                    deployment.description = input["description"] as? String
                    api.deployments[deployment.deploymentId] = deployment
                    if let stage = input["stageName"] as? String {
                        guard api.stages[stage] != nil else { throw ControlPlaneError.notFound("Stage") }
                        api.stages[stage]!.deploymentId = deployment.deploymentId
                    }
                    return deploymentJSON(deployment)
                },
                get: { api, id in try api.deployments[id].map(deploymentJSON) ?? { throw ControlPlaneError.notFound("Deployment") }() },
                update: { api, id, input in
                    guard var deployment = api.deployments[id] else { throw ControlPlaneError.notFound("Deployment") }
                    if let description = input["description"] as? String { deployment.description = description }
                    api.deployments[id] = deployment
                    return deploymentJSON(deployment)
                },
                delete: { api, id in
                    guard api.deployments.removeValue(forKey: id) != nil else { throw ControlPlaneError.notFound("Deployment") }
                })
        default:
            throw ControlPlaneError.notFound("resource")
        }
    }

    /// `/v2/tags/{arn}` for an API's ARN (`arn:aws:apigateway:{region}::/apis/{apiId}`): GET,
    /// POST (add or replace) and DELETE (`?tagKeys=…`, repeated).
    private func tags(_ method: HTTPMethod, arn: String, _ input: [String: Any], removing tagKeys: [String]) throws -> LocalResponse {
        guard let range = arn.range(of: "::/apis/"), arn.hasPrefix("arn:"), case let apiId = String(arn[range.upperBound...]),
            !apiId.contains("/")
        else { throw ControlPlaneError.badRequest("Invalid resource ARN \(arn): the local gateway tags APIs only") }
        guard var api = api(apiId) else { throw ControlPlaneError.notFound("API") }
        switch method {
        case .GET:
            return .ok(["tags": api.tags])
        case .POST:
            guard let tags = input["tags"] as? [String: String] else { throw ControlPlaneError.badRequest("tags is required") }
            api.tags.merge(tags) { _, new in new }
            try register(api)
            return .rawJSON(.created, "{}")
        case .DELETE:
            for key in tagKeys { api.tags[key] = nil }
            try register(api)
            return LocalResponse(status: .noContent)
        default:
            throw ControlPlaneError.notFound("method")
        }
    }

    /// `/v2/domainnames[/{domainName}[/apimappings[/{apiMappingId}]]]`.
    private func domainNames(_ method: HTTPMethod, _ parts: [String], _ input: [String: Any], _ query: [String: String]) throws
        -> LocalResponse
    {
        if parts.isEmpty {
            switch method {
            case .POST:
                guard let name = (input["domainName"] as? String)?.lowercased(), !name.isEmpty else {
                    throw ControlPlaneError.badRequest("domainName is required")
                }
                let configuration = (input["domainNameConfigurations"] as? [[String: Any]])?.first ?? [:]
                var domain = LocalDomainName(
                    domainName: name, certificateArn: configuration["certificateArn"] as? String,
                    apiGatewayDomainName: "d-\(Self.makeID(length: 10)).execute-api.localhost"
                )
                Self.apply(configuration, to: &domain)
                domain.tags = input["tags"] as? [String: String] ?? [:]
                try state.update { held in
                    guard held.domainNames[name] == nil else {
                        throw ControlPlaneError.conflict("The domain name you provided already exists.")
                    }
                    held.domainNames[name] = domain
                }
                return .rawJSON(.created, Self.encode(domainJSON(domain)))
            case .GET:
                return page(currentDomainNames.sorted { $0.domainName < $1.domainName }.map(domainJSON), query)
            default:
                throw ControlPlaneError.notFound("method")
            }
        }
        let name = (parts[0].removingPercentEncoding ?? parts[0]).lowercased()
        guard var domain = currentDomainNames.first(where: { $0.domainName == name }) else {
            throw ControlPlaneError.notFound("domain name")
        }
        if parts.count == 1 {
            switch method {
            case .GET:
                return .ok(domainJSON(domain))
            case .PATCH:
                if let configuration = (input["domainNameConfigurations"] as? [[String: Any]])?.first {
                    Self.apply(configuration, to: &domain)
                }
                try state.update { $0.domainNames[name] = domain }
                return .ok(domainJSON(domain))
            case .DELETE:
                try state.update { $0.domainNames[name] = nil }
                return LocalResponse(status: .noContent)
            default:
                throw ControlPlaneError.notFound("method")
            }
        }
        guard parts[1] == "apimappings" else { throw ControlPlaneError.notFound("resource") }
        /// A mapping must name an API and one of its stages, and its key must be free on the domain.
        func validate(_ mapping: LocalApiMapping) throws {
            guard let api = api(mapping.apiId) else { throw ControlPlaneError.notFound("API") }
            guard api.stages[mapping.stage] != nil else { throw ControlPlaneError.badRequest("Invalid stage identifier specified") }
            if domain.mappings.values.contains(where: {
                $0.apiMappingId != mapping.apiMappingId && ($0.apiMappingKey ?? "") == (mapping.apiMappingKey ?? "")
            }) {
                throw ControlPlaneError.conflict("The API mapping already exists for the domain name and key")
            }
        }
        switch (method, parts.count > 2 ? parts[2] : nil) {
        case (.POST, nil):
            guard let apiId = input["apiId"] as? String, let stage = input["stage"] as? String else {
                throw ControlPlaneError.badRequest("apiId and stage are required")
            }
            let mapping = LocalApiMapping(
                apiMappingId: Self.makeID(length: 6), apiId: apiId, stage: stage, apiMappingKey: input["apiMappingKey"] as? String)
            try validate(mapping)
            domain.mappings[mapping.apiMappingId] = mapping
            try state.update { $0.domainNames[name] = domain }
            return .rawJSON(.created, Self.encode(mappingJSON(mapping)))
        case (.GET, nil):
            return page(domain.mappings.values.sorted { $0.apiMappingId < $1.apiMappingId }.map(mappingJSON), query)
        case (let method, let id?):
            guard var mapping = domain.mappings[id] else { throw ControlPlaneError.notFound("API mapping") }
            switch method {
            case .GET:
                return .ok(mappingJSON(mapping))
            case .PATCH:
                guard let apiId = input["apiId"] as? String else { throw ControlPlaneError.badRequest("apiId is required") }
                mapping.apiId = apiId
                if let stage = input["stage"] as? String { mapping.stage = stage }
                if let key = input["apiMappingKey"] as? String { mapping.apiMappingKey = key }
                try validate(mapping)
                domain.mappings[id] = mapping
                try state.update { $0.domainNames[name] = domain }
                return .ok(mappingJSON(mapping))
            case .DELETE:
                domain.mappings[id] = nil
                try state.update { $0.domainNames[name] = domain }
                return LocalResponse(status: .noContent)
            default:
                throw ControlPlaneError.notFound("method")
            }
        default:
            throw ControlPlaneError.notFound("method")
        }
    }

    /// One collection's verbs: POST and GET on the collection, GET, PATCH and DELETE on an item.
    private func crud(
        _ method: HTTPMethod, _ id: String?, _ input: [String: Any], _ query: [String: String], api: inout LocalAPI,
        list: (LocalAPI) -> [[String: Any]],
        create: (inout LocalAPI, [String: Any]) throws -> [String: Any],
        get: (LocalAPI, String) throws -> [String: Any],
        update: (inout LocalAPI, String, [String: Any]) throws -> [String: Any],
        delete: (inout LocalAPI, String) throws -> Void
    ) throws -> LocalResponse {
        switch (method, id) {
        case (.POST, nil):
            let created = try create(&api, input)
            try register(api)
            return .rawJSON(.created, Self.encode(created))
        case (.GET, nil):
            return page(list(api), query)
        case (.GET, let id?):
            return .ok(try get(api, id))
        case (.PATCH, let id?):
            let updated = try update(&api, id, input)
            try register(api)
            return .ok(updated)
        case (.DELETE, let id?):
            try delete(&api, id)
            try register(api)
            return LocalResponse(status: .noContent)
        default:
            throw ControlPlaneError.notFound("method")
        }
    }

    private func createAPI(_ input: [String: Any], endpoint: String) throws -> LocalResponse {
        guard let name = input["name"] as? String, !name.isEmpty else { throw ControlPlaneError.badRequest("name is required") }
        guard let protocolType = input["protocolType"] as? String else { throw ControlPlaneError.badRequest("protocolType is required") }
        guard protocolType == "WEBSOCKET" else {
            throw ControlPlaneError.badRequest("the local gateway serves WEBSOCKET APIs only, not \(protocolType)")
        }
        guard let expression = input["routeSelectionExpression"] as? String, !expression.isEmpty else {
            throw ControlPlaneError.badRequest("routeSelectionExpression is required for WEBSOCKET APIs")
        }
        var api = LocalAPI(apiId: Self.makeID(length: 10), name: name, routeSelectionExpression: expression)
        api.apiKeySelectionExpression = input["apiKeySelectionExpression"] as? String ?? api.apiKeySelectionExpression
        api.description = input["description"] as? String
        api.disableSchemaValidation = input["disableSchemaValidation"] as? Bool
        api.tags = input["tags"] as? [String: String] ?? [:]
        try register(api)
        return .rawJSON(.created, Self.encode(apiJSON(api, endpoint: endpoint)))
    }

    /// `{"items": […], "nextToken": …}`, `maxResults` at a time from the offset in `nextToken`.
    private func page(_ items: [[String: Any]], _ query: [String: String]) -> LocalResponse {
        let start = query["nextToken"].flatMap(Int.init) ?? 0
        let size = query["maxResults"].flatMap(Int.init) ?? 100
        let slice = Array(items.dropFirst(start).prefix(max(1, size)))
        var answer: [String: Any] = ["items": slice]
        if start + slice.count < items.count { answer["nextToken"] = String(start + slice.count) }
        return .ok(answer)
    }

    // MARK: Shapes

    private func apiJSON(_ api: LocalAPI, endpoint: String) -> [String: Any] {
        var json: [String: Any] = [
            "apiId": api.apiId, "name": api.name, "protocolType": api.protocolType,
            "routeSelectionExpression": api.routeSelectionExpression,
            "apiEndpoint": "\(endpoint)/\(api.apiId)", "createdDate": Self.iso(api.createdDate), "tags": api.tags,
        ]
        json["apiKeySelectionExpression"] = api.apiKeySelectionExpression
        json["description"] = api.description
        json["disableSchemaValidation"] = api.disableSchemaValidation
        return json
    }

    private func integrationJSON(_ integration: LocalIntegration) -> [String: Any] {
        var json: [String: Any] = [
            "integrationId": integration.integrationId, "integrationType": integration.integrationType,
            "requestParameters": integration.requestParameters, "timeoutInMillis": integration.timeoutInMillis,
        ]
        json["integrationMethod"] = integration.integrationMethod
        json["integrationUri"] = integration.integrationUri
        json["connectionType"] = integration.connectionType
        json["passthroughBehavior"] = integration.passthroughBehavior
        json["payloadFormatVersion"] = integration.payloadFormatVersion
        json["description"] = integration.description
        return json
    }

    private func routeJSON(_ route: LocalRoute) -> [String: Any] {
        var json: [String: Any] = ["routeId": route.routeId, "routeKey": route.routeKey]
        json["target"] = route.target
        json["routeResponseSelectionExpression"] = route.routeResponseSelectionExpression
        json["authorizationType"] = route.authorizationType
        json["apiKeyRequired"] = route.apiKeyRequired
        json["operationName"] = route.operationName
        return json
    }

    private func routeResponseJSON(_ response: LocalRouteResponse) -> [String: Any] {
        var json: [String: Any] = ["routeResponseId": response.routeResponseId, "routeResponseKey": response.routeResponseKey]
        json["modelSelectionExpression"] = response.modelSelectionExpression
        return json
    }

    private func stageJSON(_ stage: LocalStage) -> [String: Any] {
        var json: [String: Any] = [
            "stageName": stage.stageName, "stageVariables": stage.stageVariables,
            "createdDate": Self.iso(stage.createdDate), "lastUpdatedDate": Self.iso(stage.lastUpdatedDate),
        ]
        json["deploymentId"] = stage.deploymentId
        json["autoDeploy"] = stage.autoDeploy
        json["description"] = stage.description
        return json
    }

    private func domainJSON(_ domain: LocalDomainName) -> [String: Any] {
        var configuration: [String: Any] = [
            "apiGatewayDomainName": domain.apiGatewayDomainName, "endpointType": domain.endpointType,
            "securityPolicy": domain.securityPolicy, "hostedZoneId": domain.hostedZoneId, "domainNameStatus": "AVAILABLE",
        ]
        configuration["certificateArn"] = domain.certificateArn
        return [
            "domainName": domain.domainName, "domainNameConfigurations": [configuration], "tags": domain.tags,
            "apiMappingSelectionExpression": "$request.basepath",
        ]
    }

    private func mappingJSON(_ mapping: LocalApiMapping) -> [String: Any] {
        var json: [String: Any] = ["apiMappingId": mapping.apiMappingId, "apiId": mapping.apiId, "stage": mapping.stage]
        json["apiMappingKey"] = mapping.apiMappingKey
        return json
    }

    private func deploymentJSON(_ deployment: LocalDeployment) -> [String: Any] {
        var json: [String: Any] = [
            "deploymentId": deployment.deploymentId, "deploymentStatus": deployment.deploymentStatus,
            "autoDeployed": deployment.autoDeployed, "createdDate": Self.iso(deployment.createdDate),
        ]
        json["description"] = deployment.description
        return json
    }

    // MARK: Helpers

    static func apply(_ input: [String: Any], to integration: inout LocalIntegration) {
        if let value = input["integrationUri"] as? String { integration.integrationUri = value }
        if let value = input["integrationMethod"] as? String { integration.integrationMethod = value }
        if let value = input["integrationType"] as? String { integration.integrationType = value }
        if let value = input["connectionType"] as? String { integration.connectionType = value }
        if let value = input["passthroughBehavior"] as? String { integration.passthroughBehavior = value }
        if let value = input["payloadFormatVersion"] as? String { integration.payloadFormatVersion = value }
        if let value = input["requestParameters"] as? [String: String] { integration.requestParameters = value }
        if let value = input["timeoutInMillis"] as? Int { integration.timeoutInMillis = value }
        if let value = input["description"] as? String { integration.description = value }
    }

    static func apply(_ input: [String: Any], to route: inout LocalRoute) {
        if let value = input["authorizationType"] as? String { route.authorizationType = value }
        if let value = input["apiKeyRequired"] as? Bool { route.apiKeyRequired = value }
        if let value = input["operationName"] as? String { route.operationName = value }
    }

    static func apply(_ input: [String: Any], to stage: inout LocalStage) {
        if let value = input["deploymentId"] as? String { stage.deploymentId = value }
        if let value = input["autoDeploy"] as? Bool { stage.autoDeploy = value }
        if let value = input["description"] as? String { stage.description = value }
        if let value = input["stageVariables"] as? [String: String] { stage.stageVariables = value }
    }

    static func apply(_ configuration: [String: Any], to domain: inout LocalDomainName) {
        if let value = configuration["certificateArn"] as? String { domain.certificateArn = value }
        if let value = configuration["endpointType"] as? String { domain.endpointType = value }
        if let value = configuration["securityPolicy"] as? String { domain.securityPolicy = value }
    }

    static func makeID(length: Int = 7) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<length).map { _ in alphabet.randomElement()! })
    }

    static func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    static func encode(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Every value of a repeated query parameter, decoded.
    static func queryValues(_ uri: String, _ name: String) -> [String] {
        guard let query = splitURI(uri).query else { return [] }
        return query.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name else { return nil }
            return String(parts[1]).removingPercentEncoding ?? String(parts[1])
        }
    }

    static func queryItems(_ uri: String) -> [String: String] {
        guard let query = splitURI(uri).query else { return [:] }
        var items: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            items[String(parts[0])] = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
        }
        return items
    }
}

extension LocalResponse {
    static func ok(_ object: [String: Any]) -> LocalResponse { .rawJSON(.ok, LocalGateway.encode(object)) }
    static func rawJSON(_ status: HTTPResponseStatus, _ text: String) -> LocalResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return LocalResponse(status: status, headers: headers, body: ByteBuffer(string: text))
    }
}
