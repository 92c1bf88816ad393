/// A custom domain held by the local gateway, with its API mappings, in API Gateway v2's shapes.
///
/// A request whose `Host` (without its port) is the domain is routed by the mapping whose key is
/// the first path segment, or by the mapping with no key: `ws://{domain}/{key}` connects to the
/// mapped API and stage, and `http://{domain}/{key}/@connections/{id}` reaches its connections.
public struct LocalDomainName: Codable, Sendable, Hashable {
    public var domainName: String
    public var certificateArn: String?
    public var endpointType: String = "REGIONAL"
    public var securityPolicy: String = "TLS_1_2"
    /// Where DNS would point: a placeholder in AWS's form (`d-….execute-api.localhost`), since the
    /// local gateway is reached at its own address.
    public var apiGatewayDomainName: String
    /// A placeholder hosted zone for ``apiGatewayDomainName``.
    public var hostedZoneId: String = "ZLOCALGATEWAY"
    public var tags: [String: String] = [:]
    /// Mappings by id.
    public var mappings: [String: LocalApiMapping] = [:]

    public init(domainName: String, certificateArn: String?, apiGatewayDomainName: String) {
        self.domainName = domainName
        self.certificateArn = certificateArn
        self.apiGatewayDomainName = apiGatewayDomainName
    }

    /// The mapping for a request path's segments, and the segments after its key.
    func mapping(for parts: [String]) -> (LocalApiMapping, rest: ArraySlice<String>)? {
        if let first = parts.first, let keyed = mappings.values.first(where: { $0.apiMappingKey == first }) {
            return (keyed, parts.dropFirst())
        }
        return mappings.values.first { ($0.apiMappingKey ?? "").isEmpty }.map { ($0, parts[...]) }
    }
}

public struct LocalApiMapping: Codable, Sendable, Hashable {
    public var apiMappingId: String
    public var apiId: String
    public var stage: String
    /// The base path; nil or empty maps the domain's root.
    public var apiMappingKey: String?

    public init(apiMappingId: String, apiId: String, stage: String, apiMappingKey: String?) {
        self.apiMappingId = apiMappingId
        self.apiId = apiId
        self.stage = stage
        self.apiMappingKey = apiMappingKey
    }
}
