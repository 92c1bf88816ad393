import APIGatewayAWS
public import APIGatewayProvisioning
public import APIGatewayWebSockets
public import FluentKit
import Foundation

/// One API Gateway WebSocket API, as a Fluent model of `apigw_gateways`: the settings a person
/// chose (`GatewaySettings`) and what provisioning learned from AWS.
///
/// A row with an ``apiID`` is served: its events are accepted, checked against the record cached
/// by the gateway's `CachedGatewayDirectory`. A row without one is a gateway not yet applied.
public final class GatewayModel: Model, @unchecked Sendable {  // Fluent models are reference types with property wrappers.
    public static let schema = "apigw_gateways"

    /// Where an apply stands.
    public enum Status: String, Codable, Sendable {
        /// Saved, never applied.
        case draft
        /// An apply holds the claim.
        case applying
        /// The last apply finished.
        case applied
        /// The last apply stopped at ``GatewayModel/lastError``; applying again resumes.
        case failed
    }

    @ID(key: .id) public var id: UUID?
    @Field(key: "name") public var name: String
    @OptionalField(key: "description") public var gatewayDescription: String?
    @OptionalField(key: "default_channel") public var defaultChannel: String?
    @Field(key: "target_base_url") public var targetBaseURL: String
    @Field(key: "route_selection_expression") public var routeSelectionExpression: String
    @Field(key: "api_key_selection_expression") public var apiKeySelectionExpression: String
    @Field(key: "stage") public var stage: String
    @OptionalField(key: "stage_description") public var stageDescription: String?
    @Field(key: "region") public var region: String
    @Field(key: "tags") public var tags: [String: String]
    @OptionalField(key: "custom_domain") public var customDomain: String?
    @OptionalField(key: "certificate_arn") public var certificateARN: String?
    @OptionalField(key: "hosted_zone_id") public var hostedZoneID: String?
    /// Where to post `@connections` messages when not the API's own endpoint.
    @OptionalField(key: "management_endpoint") public var managementEndpoint: String?

    // From AWS, recorded by apply, domain and import.
    @OptionalField(key: "api_id") public var apiID: String?
    @OptionalField(key: "api_endpoint") public var apiEndpoint: String?
    @OptionalField(key: "domain_target") public var domainTarget: String?
    @OptionalField(key: "domain_target_zone_id") public var domainTargetZoneID: String?
    @OptionalField(key: "api_mapping_id") public var apiMappingID: String?
    @OptionalField(key: "deployment_id") public var deploymentID: String?
    @Field(key: "status") public var status: Status
    @OptionalField(key: "last_error") public var lastError: String?
    /// Held by one apply at a time; see the Vapor door's `GatewayProvisioner`.
    @OptionalField(key: "claim_token") public var claimToken: String?
    @OptionalField(key: "claimed_at") public var claimedAt: Int64?

    @Children(for: \.$gateway) public var routes: [GatewayRouteModel]

    public init() {}

    /// A served API registered directly, with no settings to provision from.
    public convenience init(_ record: GatewayRecord) {
        self.init(
            settings: GatewaySettings(
                name: record.apiID.rawValue, defaultChannel: record.defaultChannel?.rawValue,
                targetBaseURL: "", stage: record.stage, region: record.region))
        self.apiID = record.apiID.rawValue
        self.managementEndpoint = record.managementEndpoint?.description
        self.status = .applied
    }

    public init(settings: GatewaySettings) {
        self.status = .draft
        self.tags = [:]
        apply(settings)
    }

    /// Copies every setting into the row.
    public func apply(_ settings: GatewaySettings) {
        name = settings.name
        gatewayDescription = settings.description
        defaultChannel = settings.defaultChannel
        targetBaseURL = settings.targetBaseURL
        routeSelectionExpression = settings.routeSelectionExpression
        apiKeySelectionExpression = settings.apiKeySelectionExpression
        stage = settings.stage
        stageDescription = settings.stageDescription
        region = settings.region
        tags = settings.tags
        customDomain = settings.customDomain
        certificateARN = settings.certificateARN
        hostedZoneID = settings.hostedZoneID
    }

    public var settings: GatewaySettings {
        GatewaySettings(
            name: name, description: gatewayDescription, defaultChannel: defaultChannel, targetBaseURL: targetBaseURL,
            routeSelectionExpression: routeSelectionExpression, apiKeySelectionExpression: apiKeySelectionExpression, stage: stage,
            stageDescription: stageDescription, region: region, tags: tags, customDomain: customDomain, certificateARN: certificateARN,
            hostedZoneID: hostedZoneID
        )
    }

    /// The record the directory caches; nil until the API exists. The management endpoint is
    /// parsed here, once per load, never per post.
    /// - Throws: `IdentifierError` for an invalid stored id or channel, `ManagementEndpointError`
    ///   for a stored endpoint that is not a URL.
    public func record() throws -> GatewayRecord? {
        guard let apiID else { return nil }
        return GatewayRecord(
            apiID: try APIID(apiID),
            stage: stage,
            region: region,
            defaultChannel: try defaultChannel.map { try ChannelName($0) },
            managementEndpoint: try (managementEndpoint ?? apiEndpoint.map { Self.managementEndpoint(apiEndpoint: $0, stage: stage) })
                .map { try ManagementEndpoint(url: $0) }
        )
    }

    /// `wss://id.execute-api.region.amazonaws.com` and stage → `https://id.execute-api.region.amazonaws.com/stage`.
    static func managementEndpoint(apiEndpoint: String, stage: String) -> String {
        var base = apiEndpoint
        if base.hasPrefix("wss://") {
            base = "https://" + base.dropFirst(6)
        } else if base.hasPrefix("ws://") {
            base = "http://" + base.dropFirst(5)
        }
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/\(stage)"
    }
}

/// A route a person added that no controller declares, as a Fluent model of `apigw_gateway_routes`.
public final class GatewayRouteModel: Model, @unchecked Sendable {
    public static let schema = "apigw_gateway_routes"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "gateway_id") public var gateway: GatewayModel
    @Field(key: "name") public var name: String
    @Field(key: "route_key") public var routeKey: String
    @Field(key: "integration_url") public var integrationURL: String
    /// True once an apply deployed it.
    @Field(key: "deployed") public var deployed: Bool
    @OptionalField(key: "route_id") public var routeID: String?
    @OptionalField(key: "integration_id") public var integrationID: String?

    public init() {}

    public init(gatewayID: UUID, route: AdditionalRoute) {
        self.$gateway.id = gatewayID
        self.name = route.name
        self.routeKey = route.routeKey.rawValue
        self.integrationURL = route.integrationURL
        self.deployed = false
    }

    /// The route as provisioning plans it.
    /// - Throws: `IdentifierError` for a stored key that is not a route key.
    public var route: AdditionalRoute {
        get throws { AdditionalRoute(name: name, routeKey: try RouteKey(routeKey), integrationURL: integrationURL) }
    }
}

extension CachedGatewayDirectory {
    /// A directory of the applied gateway records in `database` (`apigw_gateways`, those with an
    /// API id): what the dispatcher reads every event's API through, and what
    /// ``GatewayProvisioner`` reloads after an apply.
    public static func gatewayRecords(in database: @escaping @Sendable () throws -> any Database) -> CachedGatewayDirectory {
        CachedGatewayDirectory {
            try await GatewayModel.query(on: database()).filter(\.$apiID != nil).all().compactMap { try $0.record() }
        }
    }
}
