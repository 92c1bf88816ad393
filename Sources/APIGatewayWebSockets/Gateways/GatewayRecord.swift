public import APIGatewayAWS

/// What the backend knows about one API Gateway WebSocket API that may call it.
///
/// Records live in the database (the Vapor module's `GatewayModel`) and are cached in memory by
/// a ``GatewayDirectory``: events are checked against them without a query.
public struct GatewayRecord: Sendable, Hashable, Codable {
    public var apiID: APIID
    /// The stage clients connect to, e.g. `production`.
    public var stage: String
    /// The AWS region, e.g. `eu-west-1`.
    public var region: String
    /// The channel a connection joins when it names none.
    public var defaultChannel: ChannelName?
    /// Where to post `@connections` messages instead of
    /// `https://{apiID}.execute-api.{region}.amazonaws.com/{stage}`: a custom domain with its base
    /// path, or a local gateway.
    public var managementEndpoint: ManagementEndpoint?

    public init(
        apiID: APIID,
        stage: String,
        region: String,
        defaultChannel: ChannelName? = nil,
        managementEndpoint: ManagementEndpoint? = nil
    ) {
        self.apiID = apiID
        self.stage = stage
        self.region = region
        self.defaultChannel = defaultChannel
        self.managementEndpoint = managementEndpoint
    }
}

extension GatewayRecord {
    /// Where this stage serves `@connections`: ``managementEndpoint``, else API Gateway's own
    /// `https://{apiID}.execute-api.{region}.{partition's domain}/{stage}`. Never parsed: built
    /// from the record's parts.
    public var connectionsEndpoint: ManagementEndpoint {
        managementEndpoint ?? .aws(apiID: apiID.rawValue, region: region, stage: stage)
    }

    /// Checks what API Gateway and the `@connections` URL require of the record: a stage of 1 to
    /// 128 characters of `A–Z a–z 0–9 _ -`, and a region name.
    /// - Throws: ``GatewayRecordError`` naming the field.
    public func validate() throws(GatewayRecordError) {
        guard Self.isValidStage(stage) else { throw .invalidStage(stage) }
        guard AWSPartition.isValidRegion(region) else { throw .invalidRegion(region) }
    }
}

extension GatewayRecord {
    /// Whether `stage` is a stage name API Gateway accepts: 1 to 128 characters of `A–Z a–z 0–9 _ -`.
    public static func isValidStage(_ stage: String) -> Bool {
        let bytes = stage.utf8
        return !bytes.isEmpty && bytes.count <= 128
            && bytes.allSatisfy { isASCIIAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }
}

/// A ``GatewayRecord`` that API Gateway could not have.
public struct GatewayRecordError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case stage(String)
        case region(String)
    }

    private let kind: Kind

    static func invalidStage(_ stage: String) -> GatewayRecordError { GatewayRecordError(kind: .stage(stage)) }
    static func invalidRegion(_ region: String) -> GatewayRecordError { GatewayRecordError(kind: .region(region)) }

    public var description: String {
        switch kind {
        case .stage(let stage): "invalid stage '\(stage.prefix(64))': must be 1 to 128 characters of A-Z a-z 0-9 _ -"
        case .region(let region): "invalid region '\(region.prefix(64))': must be a region name such as eu-west-1"
        }
    }
}
