import APIGatewayAWS
import NIOHTTP1

/// `/v2/domainnames[/{domainName}[/apimappings[/{apiMappingId}]]]` and `/v2/tags/{arn}`.
extension LocalGateway {
    func domainNames(_ request: ControlPlaneRequest) throws -> LocalResponse {
        let parts = request.parts
        guard parts.count > 1 else {
            switch request.method {
            case .POST:
                let input = try request.decode(APIGatewayV2.DomainName.self)
                guard let name = input.domainName?.lowercased(), !name.isEmpty else {
                    throw ControlPlaneError.badRequest("domainName is required")
                }
                var domain = LocalDomainName(
                    domainName: name, certificateArn: nil, apiGatewayDomainName: "d-\(Self.makeID(length: 10)).execute-api.localhost")
                input.domainNameConfigurations?.first?.apply(to: &domain)
                domain.tags = input.tags ?? [:]
                try state.update { held in
                    guard held.domainNames[name] == nil else {
                        throw ControlPlaneError.conflict("The domain name you provided already exists.")
                    }
                    held.domainNames[name] = domain
                }
                return .json(.created, APIGatewayV2.DomainName(domain))
            case .GET:
                return try request.page(currentDomainNames.sorted { $0.domainName < $1.domainName }.map(APIGatewayV2.DomainName.init))
            default:
                throw ControlPlaneError.missing("domainName")
            }
        }
        let name = try request.segment(1, named: "domainName").lowercased()
        if parts.count == 2 {
            switch request.method {
            case .GET:
                return .json(.ok, APIGatewayV2.DomainName(try existingDomain(name)))
            case .PATCH:
                let input = try request.decode(APIGatewayV2.DomainName.self)
                let domain = try updateDomain(name) { domain in
                    input.domainNameConfigurations?.first?.apply(to: &domain)
                    return domain
                }
                return .json(.ok, APIGatewayV2.DomainName(domain))
            case .DELETE:
                try state.update { held in
                    guard held.domainNames.removeValue(forKey: name) != nil else { throw ControlPlaneError.notFound("domain name") }
                }
                return LocalResponse(status: .noContent)
            default:
                throw ControlPlaneError.methodNotAllowed
            }
        }
        guard parts[2] == "apimappings", parts.count <= 4 else { throw ControlPlaneError.notFound("resource") }
        return try apiMappings(name, request)
    }

    private func apiMappings(_ name: String, _ request: ControlPlaneRequest) throws -> LocalResponse {
        guard request.parts.count == 4 else {
            switch request.method {
            case .POST:
                let input = try request.decode(APIGatewayV2.ApiMapping.self)
                guard let apiId = input.apiId, let stage = input.stage else {
                    throw ControlPlaneError.badRequest("apiId and stage are required")
                }
                let mapping = LocalApiMapping(
                    apiMappingId: Self.makeID(length: 6), apiId: apiId, stage: stage, apiMappingKey: input.apiMappingKey)
                try updateDomain(name, validating: mapping) { $0.mappings[mapping.apiMappingId] = mapping }
                return .json(.created, APIGatewayV2.ApiMapping(mapping))
            case .GET:
                return try request.page(
                    try existingDomain(name).mappings.values.sorted { $0.apiMappingId < $1.apiMappingId }.map(APIGatewayV2.ApiMapping.init))
            default:
                throw ControlPlaneError.missing("apiMappingId")
            }
        }
        let id = try request.segment(3, named: "apiMappingId")
        switch request.method {
        case .GET:
            return .json(
                .ok, APIGatewayV2.ApiMapping(try existingDomain(name).mappings[id].orThrow(ControlPlaneError.notFound("API mapping"))))
        case .PATCH:
            let input = try request.decode(APIGatewayV2.ApiMapping.self)
            guard let apiId = input.apiId else { throw ControlPlaneError.badRequest("apiId is required") }
            var mapping = try existingDomain(name).mappings[id].orThrow(ControlPlaneError.notFound("API mapping"))
            mapping.apiId = apiId
            if let stage = input.stage { mapping.stage = stage }
            if let key = input.apiMappingKey { mapping.apiMappingKey = key }
            let updated = mapping
            try updateDomain(name, validating: updated) { domain in
                guard domain.mappings[id] != nil else { throw ControlPlaneError.notFound("API mapping") }
                domain.mappings[id] = updated
            }
            return .json(.ok, APIGatewayV2.ApiMapping(updated))
        case .DELETE:
            try updateDomain(name) { domain in
                guard domain.mappings.removeValue(forKey: id) != nil else { throw ControlPlaneError.notFound("API mapping") }
            }
            return LocalResponse(status: .noContent)
        default:
            throw ControlPlaneError.methodNotAllowed
        }
    }

    private func existingDomain(_ name: String) throws -> LocalDomainName {
        try state.domainName(name).orThrow(ControlPlaneError.notFound("domain name"))
    }

    /// Changes the domain `name` in one step; with `mapping`, first checks that it names an API
    /// and one of its stages, and that its key is free on the domain.
    @discardableResult
    private func updateDomain<T>(_ name: String, validating mapping: LocalApiMapping? = nil, _ body: (inout LocalDomainName) throws -> T)
        throws -> T
    {
        try state.update { held in
            guard var domain = held.domainNames[name] else { throw ControlPlaneError.notFound("domain name") }
            if let mapping {
                guard let api = held.apis[mapping.apiId] else { throw ControlPlaneError.notFound("API") }
                guard api.stages[mapping.stage] != nil else { throw ControlPlaneError.badRequest("Invalid stage identifier specified") }
                if domain.mappings.values.contains(where: {
                    $0.apiMappingId != mapping.apiMappingId && ($0.apiMappingKey ?? "") == (mapping.apiMappingKey ?? "")
                }) {
                    throw ControlPlaneError.conflict("The API mapping already exists for the domain name and key")
                }
            }
            let result = try body(&domain)
            held.domainNames[name] = domain
            return result
        }
    }

    // MARK: Tags

    /// `/v2/tags/{arn}` for an API's ARN (`arn:aws:apigateway:{region}::/apis/{apiId}`): GET,
    /// POST (add or replace) and DELETE (`?tagKeys=…`, repeated).
    func tags(_ request: ControlPlaneRequest) throws -> LocalResponse {
        // The ARN's own slashes may arrive encoded (one segment) or not (several).
        let arn = request.parts.dropFirst().joined(separator: "/")
        guard arn.hasPrefix("arn:"), let range = arn.range(of: "::/apis/"), case let apiId = String(arn[range.upperBound...]),
            !apiId.isEmpty, !apiId.contains("/")
        else { throw ControlPlaneError.badRequest("Invalid resource ARN \(arn): the local gateway tags APIs only") }
        switch request.method {
        case .GET:
            return .json(.ok, APIGatewayV2.Tags(tags: try existingAPI(apiId).tags))
        case .POST:
            let input = try request.decode(APIGatewayV2.Tags.self)
            guard let tags = input.tags else { throw ControlPlaneError.badRequest("tags is required") }
            try updateAPI(apiId) { $0.tags.merge(tags) { _, new in new } }
            return .json(.created, APIGatewayV2.Tags(tags: nil))
        case .DELETE:
            let keys = request.values("tagKeys")
            try updateAPI(apiId) { api in for key in keys { api.tags[key] = nil } }
            return LocalResponse(status: .noContent)
        default:
            throw ControlPlaneError.methodNotAllowed
        }
    }
}
