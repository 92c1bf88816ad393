import APIGatewayAWS
import Foundation
import NIOHTTP1

/// `/v2/apis[/{apiId}[/{collection}[/{id}]]]`: the APIs and what they hold.
extension LocalGateway {
    func apis(_ request: ControlPlaneRequest) throws -> LocalResponse {
        let parts = request.parts
        guard parts.count > 1 else {
            switch request.method {
            case .POST: return try createAPI(request)
            case .GET:
                return try request.page(
                    currentAPIs.sorted { $0.createdDate < $1.createdDate }.map { APIGatewayV2.Api($0, endpoint: request.endpoint) })
            default: throw ControlPlaneError.missing("apiId")
            }
        }
        let apiId = try request.segment(1, named: "apiId")
        if parts.count == 2 { return try api(apiId, request) }
        switch parts[2] {
        case "integrations": return try integrations(apiId, request)
        case "routes" where parts.count > 4 && parts[4] == "routeresponses": return try routeResponses(apiId, request)
        case "routes": return try routes(apiId, request)
        case "stages": return try stages(apiId, request)
        case "deployments": return try deployments(apiId, request)
        case "authorizers": return try authorizers(apiId, request)
        default: throw ControlPlaneError.notFound("resource")
        }
    }

    private func createAPI(_ request: ControlPlaneRequest) throws -> LocalResponse {
        let input = try request.decode(APIGatewayV2.Api.self)
        guard let name = input.name, !name.isEmpty else { throw ControlPlaneError.badRequest("name is required") }
        guard let protocolType = input.protocolType else { throw ControlPlaneError.badRequest("protocolType is required") }
        guard protocolType == "WEBSOCKET" else {
            throw ControlPlaneError.badRequest("the local gateway serves WEBSOCKET APIs only, not \(protocolType)")
        }
        guard let expression = input.routeSelectionExpression, !expression.isEmpty else {
            throw ControlPlaneError.badRequest("routeSelectionExpression is required for WEBSOCKET APIs")
        }
        var api = LocalAPI(apiId: Self.makeID(length: 10), name: name, routeSelectionExpression: expression)
        api.apiKeySelectionExpression = input.apiKeySelectionExpression ?? api.apiKeySelectionExpression
        api.description = input.description
        api.disableSchemaValidation = input.disableSchemaValidation
        api.tags = input.tags ?? [:]
        try register(api)
        return .json(.created, APIGatewayV2.Api(api, endpoint: request.endpoint))
    }

    private func api(_ apiId: String, _ request: ControlPlaneRequest) throws -> LocalResponse {
        switch request.method {
        case .GET:
            return .json(.ok, APIGatewayV2.Api(try existingAPI(apiId), endpoint: request.endpoint))
        case .PATCH:
            let input = try request.decode(APIGatewayV2.Api.self)
            let api = try updateAPI(apiId) { api in
                if let name = input.name { api.name = name }
                if let expression = input.routeSelectionExpression { api.routeSelectionExpression = expression }
                if let expression = input.apiKeySelectionExpression { api.apiKeySelectionExpression = expression }
                if let description = input.description { api.description = description }
                if let flag = input.disableSchemaValidation { api.disableSchemaValidation = flag }
                return api
            }
            return .json(.ok, APIGatewayV2.Api(api, endpoint: request.endpoint))
        case .DELETE:
            try state.update { held in
                guard held.apis.removeValue(forKey: apiId) != nil else { throw ControlPlaneError.notFound("API") }
            }
            return LocalResponse(status: .noContent)
        default:
            throw ControlPlaneError.methodNotAllowed
        }
    }

    // MARK: Integrations

    private func integrations(_ apiId: String, _ request: ControlPlaneRequest) throws -> LocalResponse {
        guard request.parts.count <= 4 else { throw ControlPlaneError.notFound("resource") }
        guard request.parts.count == 4 else {
            switch request.method {
            case .POST:
                let input = try request.decode(APIGatewayV2.Integration.self)
                guard input.integrationType != nil else { throw ControlPlaneError.badRequest("integrationType is required") }
                var integration = LocalIntegration(integrationId: Self.makeID(), integrationUri: "")
                try input.apply(to: &integration)
                try updateAPI(apiId) { $0.integrations[integration.integrationId] = integration }
                return .json(.created, APIGatewayV2.Integration(integration))
            case .GET:
                return try request.page(
                    try existingAPI(apiId).integrations.values.sorted { $0.integrationId < $1.integrationId }.map(
                        APIGatewayV2.Integration.init))
            default:
                throw ControlPlaneError.missing("integrationId")
            }
        }
        let id = try request.segment(3, named: "integrationId")
        switch request.method {
        case .GET:
            return .json(
                .ok, APIGatewayV2.Integration(try existingAPI(apiId).integrations[id].orThrow(ControlPlaneError.notFound("Integration"))))
        case .PATCH:
            let input = try request.decode(APIGatewayV2.Integration.self)
            let integration = try updateAPI(apiId) { api in
                var integration = try api.integrations[id].orThrow(ControlPlaneError.notFound("Integration"))
                try input.apply(to: &integration)
                api.integrations[id] = integration
                return integration
            }
            return .json(.ok, APIGatewayV2.Integration(integration))
        case .DELETE:
            try updateAPI(apiId) { api in
                guard api.integrations.removeValue(forKey: id) != nil else { throw ControlPlaneError.notFound("Integration") }
            }
            return LocalResponse(status: .noContent)
        default:
            throw ControlPlaneError.methodNotAllowed
        }
    }

    // MARK: Routes

    private func routes(_ apiId: String, _ request: ControlPlaneRequest) throws -> LocalResponse {
        guard request.parts.count <= 4 else { throw ControlPlaneError.notFound("resource") }
        guard request.parts.count == 4 else {
            switch request.method {
            case .POST:
                let input = try request.decode(APIGatewayV2.Route.self)
                guard let key = input.routeKey, !key.isEmpty else { throw ControlPlaneError.badRequest("routeKey is required") }
                let route = try updateAPI(apiId) { api in
                    guard api.route(key) == nil else {
                        throw ControlPlaneError.conflict("Route with key \(key) already exists for this API")
                    }
                    var route = LocalRoute(routeId: Self.makeID(), routeKey: key, target: nil)
                    try input.apply(to: &route)
                    try Self.checkAuthorization(of: route, in: api)
                    api.routes[route.routeId] = route
                    return route
                }
                return .json(.created, APIGatewayV2.Route(route))
            case .GET:
                return try request.page(
                    try existingAPI(apiId).routes.values.sorted { $0.routeKey < $1.routeKey }.map(APIGatewayV2.Route.init))
            default:
                throw ControlPlaneError.missing("routeId")
            }
        }
        let id = try request.segment(3, named: "routeId")
        switch request.method {
        case .GET:
            return .json(.ok, APIGatewayV2.Route(try existingAPI(apiId).routes[id].orThrow(ControlPlaneError.notFound("Route"))))
        case .PATCH:
            let input = try request.decode(APIGatewayV2.Route.self)
            let route = try updateAPI(apiId) { api in
                var route = try api.routes[id].orThrow(ControlPlaneError.notFound("Route"))
                if let key = input.routeKey, key != route.routeKey, api.route(key) != nil {
                    throw ControlPlaneError.conflict("Route with key \(key) already exists for this API")
                }
                try input.apply(to: &route)
                try Self.checkAuthorization(of: route, in: api)
                api.routes[id] = route
                return route
            }
            return .json(.ok, APIGatewayV2.Route(route))
        case .DELETE:
            try updateAPI(apiId) { api in
                guard api.routes.removeValue(forKey: id) != nil else { throw ControlPlaneError.notFound("Route") }
                api.routeResponses[id] = nil
            }
            return LocalResponse(status: .noContent)
        default:
            throw ControlPlaneError.methodNotAllowed
        }
    }

    /// A WebSocket API authorizes `$connect` only: `AWS_IAM`, or `CUSTOM` with one of its
    /// authorizers. `JWT` is an HTTP API's.
    static func checkAuthorization(of route: LocalRoute, in api: LocalAPI) throws {
        switch route.authorizationType ?? "NONE" {
        case "NONE": return
        case "JWT": throw ControlPlaneError.badRequest("JWT authorizers are for HTTP APIs; a WebSocket API's routes take NONE, AWS_IAM or CUSTOM")
        default:
            guard route.routeKey == "$connect" else {
                throw ControlPlaneError.badRequest(
                    "Currently, authorization is restricted to the $connect route only for WebSocket APIs, not \(route.routeKey)")
            }
            if route.authorizationType == "CUSTOM" {
                guard let id = route.authorizerId else { throw ControlPlaneError.badRequest("authorizerId is required for CUSTOM authorization") }
                guard api.authorizers?[id] != nil else { throw ControlPlaneError.notFound("Authorizer") }
            }
        }
    }

    // MARK: Authorizers

    private func authorizers(_ apiId: String, _ request: ControlPlaneRequest) throws -> LocalResponse {
        guard request.parts.count <= 4 else { throw ControlPlaneError.notFound("resource") }
        guard request.parts.count == 4 else {
            switch request.method {
            case .POST:
                let input = try request.decode(APIGatewayV2.Authorizer.self)
                guard let name = input.name, !name.isEmpty else { throw ControlPlaneError.badRequest("name is required") }
                guard input.authorizerType != nil else { throw ControlPlaneError.badRequest("authorizerType is required") }
                guard input.authorizerUri?.isEmpty == false else { throw ControlPlaneError.badRequest("authorizerUri is required") }
                let authorizer = try updateAPI(apiId) { api in
                    guard (api.authorizers?.count ?? 0) < 10 else {
                        throw ControlPlaneError(
                            status: .tooManyRequests, type: "LimitExceededException", message: "An API holds at most 10 authorizers")
                    }
                    var authorizer = LocalAuthorizer(authorizerId: Self.makeID(), name: name, authorizerUri: nil)
                    try input.apply(to: &authorizer)
                    api.authorizers = (api.authorizers ?? [:]).merging([authorizer.authorizerId: authorizer]) { $1 }
                    return authorizer
                }
                return .json(.created, APIGatewayV2.Authorizer(authorizer))
            case .GET:
                return try request.page(
                    (try existingAPI(apiId).authorizers ?? [:]).values.sorted { $0.name < $1.name }.map(APIGatewayV2.Authorizer.init))
            default:
                throw ControlPlaneError.missing("authorizerId")
            }
        }
        let id = try request.segment(3, named: "authorizerId")
        switch request.method {
        case .GET:
            return .json(
                .ok, APIGatewayV2.Authorizer(try (existingAPI(apiId).authorizers?[id]).orThrow(ControlPlaneError.notFound("Authorizer"))))
        case .PATCH:
            let input = try request.decode(APIGatewayV2.Authorizer.self)
            let authorizer = try updateAPI(apiId) { api in
                var authorizer = try (api.authorizers?[id]).orThrow(ControlPlaneError.notFound("Authorizer"))
                try input.apply(to: &authorizer)
                api.authorizers?[id] = authorizer
                return authorizer
            }
            authorizerCache.forget(authorizerId: id)
            return .json(.ok, APIGatewayV2.Authorizer(authorizer))
        case .DELETE:
            try updateAPI(apiId) { api in
                guard api.authorizers?[id] != nil else { throw ControlPlaneError.notFound("Authorizer") }
                if api.routes.values.contains(where: { $0.authorizerId == id && $0.authorizationType == "CUSTOM" }) {
                    throw ControlPlaneError.conflict("Cannot delete authorizer \(id): a route uses it")
                }
                api.authorizers?[id] = nil
            }
            authorizerCache.forget(authorizerId: id)
            return LocalResponse(status: .noContent)
        default:
            throw ControlPlaneError.methodNotAllowed
        }
    }

    /// `/v2/apis/{apiId}/routes/{routeId}/routeresponses[/{routeResponseId}]`.
    private func routeResponses(_ apiId: String, _ request: ControlPlaneRequest) throws -> LocalResponse {
        let routeId = try request.segment(3, named: "routeId")
        guard request.parts.count <= 6 else { throw ControlPlaneError.notFound("resource") }
        guard request.parts.count == 6 else {
            switch request.method {
            case .POST:
                let input = try request.decode(APIGatewayV2.RouteResponse.self)
                guard let key = input.routeResponseKey, !key.isEmpty else {
                    throw ControlPlaneError.badRequest("routeResponseKey is required")
                }
                let response = try updateAPI(apiId) { api in
                    guard api.routes[routeId] != nil else { throw ControlPlaneError.notFound("Route") }
                    let response = LocalRouteResponse(
                        routeResponseId: Self.makeID(), routeResponseKey: key, modelSelectionExpression: input.modelSelectionExpression)
                    api.routeResponses[routeId, default: []].append(response)
                    return response
                }
                return .json(.created, APIGatewayV2.RouteResponse(response))
            case .GET:
                let api = try existingAPI(apiId)
                guard api.routes[routeId] != nil else { throw ControlPlaneError.notFound("Route") }
                return try request.page((api.routeResponses[routeId] ?? []).map(APIGatewayV2.RouteResponse.init))
            default:
                throw ControlPlaneError.missing("routeResponseId")
            }
        }
        let id = try request.segment(5, named: "routeResponseId")
        /// The index of the response `id` of the route, or 404.
        func index(in api: LocalAPI) throws -> Int {
            guard api.routes[routeId] != nil else { throw ControlPlaneError.notFound("Route") }
            let position = api.routeResponses[routeId]?.firstIndex { $0.routeResponseId == id }
            return try position.orThrow(ControlPlaneError.notFound("RouteResponse"))
        }
        switch request.method {
        case .GET:
            let api = try existingAPI(apiId)
            return .json(.ok, APIGatewayV2.RouteResponse(api.routeResponses[routeId]![try index(in: api)]))
        case .PATCH:
            let input = try request.decode(APIGatewayV2.RouteResponse.self)
            let response = try updateAPI(apiId) { api in
                let position = try index(in: api)
                if let key = input.routeResponseKey { api.routeResponses[routeId]![position].routeResponseKey = key }
                if let expression = input.modelSelectionExpression {
                    api.routeResponses[routeId]![position].modelSelectionExpression = expression
                }
                return api.routeResponses[routeId]![position]
            }
            return .json(.ok, APIGatewayV2.RouteResponse(response))
        case .DELETE:
            try updateAPI(apiId) { api in
                let position = try index(in: api)
                api.routeResponses[routeId]!.remove(at: position)
            }
            return LocalResponse(status: .noContent)
        default:
            throw ControlPlaneError.methodNotAllowed
        }
    }

    // MARK: Stages

    private func stages(_ apiId: String, _ request: ControlPlaneRequest) throws -> LocalResponse {
        guard request.parts.count <= 4 else { throw ControlPlaneError.notFound("resource") }
        guard request.parts.count == 4 else {
            switch request.method {
            case .POST:
                let input = try request.decode(APIGatewayV2.Stage.self)
                guard let name = input.stageName, !name.isEmpty else { throw ControlPlaneError.badRequest("stageName is required") }
                let stage = try updateAPI(apiId) { api in
                    guard api.stages[name] == nil else { throw ControlPlaneError.conflict("Stage \(name) already exists") }
                    var stage = LocalStage(stageName: name)
                    try input.apply(to: &stage)
                    api.stages[name] = stage
                    return stage
                }
                return .json(.created, APIGatewayV2.Stage(stage))
            case .GET:
                return try request.page(
                    try existingAPI(apiId).stages.values.sorted { $0.stageName < $1.stageName }.map(APIGatewayV2.Stage.init))
            default:
                throw ControlPlaneError.missing("stageName")
            }
        }
        let name = try request.segment(3, named: "stageName")
        switch request.method {
        case .GET:
            return .json(.ok, APIGatewayV2.Stage(try existingAPI(apiId).stages[name].orThrow(ControlPlaneError.notFound("Stage"))))
        case .PATCH:
            let input = try request.decode(APIGatewayV2.Stage.self)
            let stage = try updateAPI(apiId) { api in
                var stage = try api.stages[name].orThrow(ControlPlaneError.notFound("Stage"))
                try input.apply(to: &stage)
                stage.lastUpdatedDate = Date()
                api.stages[name] = stage
                return stage
            }
            return .json(.ok, APIGatewayV2.Stage(stage))
        case .DELETE:
            try updateAPI(apiId) { api in
                guard api.stages.removeValue(forKey: name) != nil else { throw ControlPlaneError.notFound("Stage") }
            }
            return LocalResponse(status: .noContent)
        default:
            throw ControlPlaneError.methodNotAllowed
        }
    }

    // MARK: Deployments

    private func deployments(_ apiId: String, _ request: ControlPlaneRequest) throws -> LocalResponse {
        guard request.parts.count <= 4 else { throw ControlPlaneError.notFound("resource") }
        guard request.parts.count == 4 else {
            switch request.method {
            case .POST:
                let input = try request.decode(APIGatewayV2.Deployment.self)
                let deployment = try updateAPI(apiId) { api in
                    var deployment = LocalDeployment(deploymentId: Self.makeID())
                    deployment.description = input.description
                    if let stage = input.stageName {
                        guard api.stages[stage] != nil else { throw ControlPlaneError.notFound("Stage") }
                        api.stages[stage]!.deploymentId = deployment.deploymentId
                    }
                    api.deployments[deployment.deploymentId] = deployment
                    return deployment
                }
                return .json(.created, APIGatewayV2.Deployment(deployment))
            case .GET:
                return try request.page(
                    try existingAPI(apiId).deployments.values.sorted { $0.createdDate < $1.createdDate }.map(APIGatewayV2.Deployment.init))
            default:
                throw ControlPlaneError.missing("deploymentId")
            }
        }
        let id = try request.segment(3, named: "deploymentId")
        switch request.method {
        case .GET:
            return .json(
                .ok, APIGatewayV2.Deployment(try existingAPI(apiId).deployments[id].orThrow(ControlPlaneError.notFound("Deployment"))))
        case .PATCH:
            let input = try request.decode(APIGatewayV2.Deployment.self)
            let deployment = try updateAPI(apiId) { api in
                var deployment = try api.deployments[id].orThrow(ControlPlaneError.notFound("Deployment"))
                if let description = input.description { deployment.description = description }
                api.deployments[id] = deployment
                return deployment
            }
            return .json(.ok, APIGatewayV2.Deployment(deployment))
        case .DELETE:
            try updateAPI(apiId) { api in
                guard api.deployments.removeValue(forKey: id) != nil else { throw ControlPlaneError.notFound("Deployment") }
            }
            return LocalResponse(status: .noContent)
        default:
            throw ControlPlaneError.methodNotAllowed
        }
    }
}
