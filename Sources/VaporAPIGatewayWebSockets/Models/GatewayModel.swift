public import APIGatewayWebSockets
public import FluentKit
import Foundation

/// An API Gateway WebSocket API this backend serves, as a Fluent model of `apigw_gateways`.
///
/// Events from an API with no row are refused. Rows are cached in memory by the gateway's
/// ``CachedGatewayDirectory``: add one with ``WebSocketGateway/registerGateway(_:)`` so the cache
/// learns of it at once.
public final class GatewayModel: Model, @unchecked Sendable {  // Fluent models are reference types with property wrappers.
    public static let schema = "apigw_gateways"

    @ID(key: .id) public var id: UUID?
    @Field(key: "api_id") public var apiID: String
    @Field(key: "stage") public var stage: String
    @Field(key: "region") public var region: String
    @OptionalField(key: "default_channel") public var defaultChannel: String?
    @OptionalField(key: "management_endpoint") public var managementEndpoint: String?

    public init() {}

    public init(_ record: GatewayRecord) {
        self.apiID = record.apiID.rawValue
        self.stage = record.stage
        self.region = record.region
        self.defaultChannel = record.defaultChannel?.rawValue
        self.managementEndpoint = record.managementEndpoint
    }

    /// The record the directory caches. - Throws: ``IdentifierError`` for an invalid stored id.
    public func record() throws -> GatewayRecord {
        GatewayRecord(
            apiID: try APIID(apiID),
            stage: stage,
            region: region,
            defaultChannel: try defaultChannel.map { try ChannelName($0) },
            managementEndpoint: managementEndpoint
        )
    }
}
