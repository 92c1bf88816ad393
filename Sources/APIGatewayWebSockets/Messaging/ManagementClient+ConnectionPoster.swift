public import APIGatewayAWS

/// The real poster: signed `@connections` posts through API Gateway.
///
/// The endpoint is the gateway record's `managementEndpoint` when set (a custom domain, the local
/// gateway), else `https://{apiID}.execute-api.{region}.amazonaws.com/{stage}`. Any `410`
/// (`GoneException`) is ``PostResult/gone``; everything else that fails after the client's retries
/// is thrown.
extension ManagementClient: ConnectionPoster {
    public func post(_ payload: Payload, to connection: ConnectionID, on gateway: GatewayRecord) async throws -> PostResult {
        do {
            try await post(
                payload.bytes, payloadHash: payload.sha256, to: connection.rawValue, endpoint: gateway.connectionsEndpoint,
                region: gateway.region)
            return .sent
        } catch let error as AWSError where error.isGone {
            return .gone
        }
    }

    public func close(_ connection: ConnectionID, on gateway: GatewayRecord) async throws -> PostResult {
        do {
            try await deleteConnection(connection.rawValue, endpoint: gateway.connectionsEndpoint, region: gateway.region)
            return .sent
        } catch let error as AWSError where error.isGone {
            return .gone
        }
    }
}
