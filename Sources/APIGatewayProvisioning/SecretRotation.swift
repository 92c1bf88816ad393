public import APIGatewayAWS
public import APIGatewayWebSockets

/// A new gateway secret for every integration of an API, the planned ones and any added by hand,
/// then a deployment so the stage sends it.
///
/// The backend must accept the new secret before the integrations send it: list it in
/// `GatewayConfiguration/secrets` (first, so plans keep it) next to the old one, rotate, then
/// drop the old one.
public struct SecretRotation: Sendable, CustomStringConvertible {
    public struct Change: Sendable, Hashable {
        public let integrationID: String
        public let integrationURI: String?
        /// The request parameters after the rotation.
        public let requestParameters: [String: String]
    }

    public let apiID: APIID
    public let stage: String
    public let secretHeader: String
    public let changes: [Change]

    public var isEmpty: Bool { changes.isEmpty }

    public var description: String {
        guard !changes.isEmpty else { return "No changes: every integration of \(apiID) already sends the new secret." }
        return
            (["Rotate the \(secretHeader) secret of API \(apiID):"]
            + changes.map { "  ~ integration \($0.integrationID) (\($0.integrationURI ?? "no URI")): new secret" }
            + ["  ~ deploy stage '\(stage)'", "\(changes.count) integration(s)."]).joined(separator: "\n")
    }

    /// The integrations whose secret header differs from `newSecret`.
    public static func plan(apiID: APIID, stage: String, secretHeader: String, newSecret: String, client: ControlPlaneClient) async throws
        -> SecretRotation
    {
        let key = "integration.request.header.\(secretHeader)"
        let value = "'\(newSecret)'"
        let changes = try await client.getIntegrations(apiID.rawValue).compactMap { integration -> Change? in
            guard let id = integration.integrationId, integration.requestParameters?[key] != value else { return nil }
            var parameters = integration.requestParameters ?? [:]
            parameters[key] = value
            return Change(integrationID: id, integrationURI: integration.integrationUri, requestParameters: parameters)
        }
        return SecretRotation(
            apiID: apiID, stage: stage, secretHeader: secretHeader, changes: changes.sorted { $0.integrationID < $1.integrationID })
    }

    /// Updates each integration, then deploys the stage.
    /// - Returns: the new deployment's id.
    @discardableResult
    public func apply(client: ControlPlaneClient) async throws -> String? {
        guard !changes.isEmpty else { return nil }
        for change in changes {
            _ = try await client.updateIntegration(
                apiID.rawValue, change.integrationID, .init(requestParameters: change.requestParameters))
        }
        return try await client.createDeployment(apiID.rawValue, .init(description: "gateway secret rotated", stageName: stage))
            .deploymentId
    }
}
