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
    public var managementEndpoint: String?

    public init(
        apiID: APIID,
        stage: String,
        region: String,
        defaultChannel: ChannelName? = nil,
        managementEndpoint: String? = nil
    ) {
        self.apiID = apiID
        self.stage = stage
        self.region = region
        self.defaultChannel = defaultChannel
        self.managementEndpoint = managementEndpoint
    }
}
