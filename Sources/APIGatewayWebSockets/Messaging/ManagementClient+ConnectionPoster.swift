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
                payload.bytes, payloadHash: payload.sha256, to: connection.rawValue, endpoint: try endpoint(for: gateway),
                region: gateway.region)
            return .sent
        } catch let error as AWSError where error.isGone {
            return .gone
        }
    }
}

extension ManagementClient {
    /// Where `gateway`'s stage serves `@connections`: its `managementEndpoint` (parsed once per
    /// client), else `https://{apiID}.execute-api.{region}.amazonaws.com/{stage}`.
    /// - Throws: ``ManagementEndpointError`` when `managementEndpoint` is not a URL.
    public func endpoint(for gateway: GatewayRecord) throws -> ManagementEndpoint {
        if let url = gateway.managementEndpoint { return try endpoint(url) }
        return .aws(apiID: gateway.apiID.rawValue, region: gateway.region, stage: gateway.stage)
    }
}
