public import APIGatewayAWS
public import APIGatewayWebSockets

/// The custom domain and its API mapping: a step of its own (`gateway domain`), because the
/// certificate must be issued and validated in ACM first, and DNS changes follow it.
public struct DomainPlan: Sendable, CustomStringConvertible {
    public enum Action: Sendable, Hashable {
        case createDomain
        case updateCertificate
        case createMapping
    }

    public let domain: DesiredAPI.CustomDomain
    public let apiID: APIID
    public let stage: String
    public let actions: [Action]
    /// What API Gateway already holds, when the domain exists.
    public let existing: APIGatewayV2.DomainName?
    public let mappingID: String?

    public var isEmpty: Bool { actions.isEmpty }

    public var description: String {
        guard !actions.isEmpty else { return "No changes: \(domain.domainName) is mapped to \(apiID)/\(stage)." }
        let lines = actions.map { action -> String in
            switch action {
            case .createDomain: "  + create domain name \(domain.domainName) (REGIONAL, TLS_1_2, \(domain.certificateARN))"
            case .updateCertificate: "  ~ \(domain.domainName): certificate → \(domain.certificateARN)"
            case .createMapping: "  + map \(domain.domainName) to API \(apiID), stage '\(stage)'"
            }
        }
        return (["Plan for custom domain \(domain.domainName):"] + lines).joined(separator: "\n")
    }

    /// Compares the desired domain with API Gateway's.
    public static func plan(_ domain: DesiredAPI.CustomDomain, apiID: APIID, stage: String, client: ControlPlaneClient) async throws
        -> DomainPlan
    {
        let existing: APIGatewayV2.DomainName?
        do { existing = try await client.getDomainName(domain.domainName) } catch let error as AWSError where error.code == .notFound {
            existing = nil
        }
        var actions: [Action] = []
        var mappingID: String?
        if let existing {
            if existing.domainNameConfigurations?.first?.certificateArn != domain.certificateARN { actions.append(.updateCertificate) }
            mappingID = try await client.getApiMappings(domain.domainName).first { $0.apiId == apiID.rawValue && $0.stage == stage }?
                .apiMappingId
        } else {
            actions.append(.createDomain)
        }
        if mappingID == nil { actions.append(.createMapping) }
        return DomainPlan(domain: domain, apiID: apiID, stage: stage, actions: actions, existing: existing, mappingID: mappingID)
    }

    /// Where DNS must point, and the mapping that serves the stage.
    public struct Result: Sendable, Hashable {
        /// The regional host name a DNS alias (or CNAME) for the domain points at.
        public let domainTarget: String?
        /// The hosted zone of ``domainTarget``, for a Route 53 alias record.
        public let targetHostedZoneID: String?
        public let apiMappingID: String?
    }

    /// Performs the plan's actions in order.
    public func apply(client: ControlPlaneClient) async throws -> Result {
        var domainName = existing
        var mappingID = mappingID
        let configuration = APIGatewayV2.DomainName.Configuration(certificateArn: domain.certificateARN)
        for action in actions {
            switch action {
            case .createDomain:
                domainName = try await client.createDomainName(
                    .init(domainName: domain.domainName, domainNameConfigurations: [configuration]))
            case .updateCertificate:
                domainName = try await client.updateDomainName(domain.domainName, .init(domainNameConfigurations: [configuration]))
            case .createMapping:
                mappingID = try await client.createApiMapping(domain.domainName, .init(apiId: apiID.rawValue, stage: stage)).apiMappingId
            }
        }
        let target = domainName?.domainNameConfigurations?.first
        return Result(domainTarget: target?.apiGatewayDomainName, targetHostedZoneID: target?.hostedZoneId, apiMappingID: mappingID)
    }
}
