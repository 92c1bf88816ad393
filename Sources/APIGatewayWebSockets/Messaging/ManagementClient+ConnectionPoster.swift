public import APIGatewayAWS

/// The real poster: signed `@connections` posts through API Gateway.
///
/// The endpoint is the gateway record's `managementEndpoint` when set (a custom domain, the local
/// gateway), else `https://{apiID}.execute-api.{region}.amazonaws.com/{stage}`. A `410
/// GoneException` is ``PostResult/gone``; everything else that fails after the client's retries
/// is thrown.
extension ManagementClient: ConnectionPoster {
    public func post(_ payload: Payload, to connection: ConnectionID, on gateway: GatewayRecord) async throws -> PostResult {
        do {
            let endpoint = try gateway.managementEndpoint.map { try self.endpoint($0) }
                ?? .aws(apiID: gateway.apiID.rawValue, region: gateway.region, stage: gateway.stage)
            try await post(payload.bytes, payloadHash: payload.sha256, to: connection.rawValue, endpoint: endpoint, region: gateway.region)
            return .sent
        } catch let error as AWSError where error.code == .gone {
            return .gone
        }
    }
}

extension GatewayRecord {
    /// Where this API's stage serves `@connections`.
    /// - Throws: ``ManagementEndpointError`` when `managementEndpoint` is not a URL.
    public func endpoint() throws -> ManagementEndpoint {
        if let managementEndpoint { return try ManagementEndpoint(url: managementEndpoint) }
        return .aws(apiID: apiID.rawValue, region: region, stage: stage)
    }
}
