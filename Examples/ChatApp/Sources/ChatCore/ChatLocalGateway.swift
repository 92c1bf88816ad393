import APIGatewayProvisioning
public import APIGatewayWebSockets
public import APIGatewayWebSocketsSQL
public import FluentKit
import Foundation

/// The guide's "register the route" step, walked by both examples themselves: the app's routes
/// become the embedded local gateway's API through the same planner and apply a user runs
/// against AWS (`gateway apply`).
public enum ChatLocalGateway {
    /// The gateway record's name.
    public static let gatewayName = "chat"

    /// Configures the `chat` gateway record for `backend` and applies it with `provisioner`
    /// (whose clients reach the local gateway). The embedded gateway keeps its APIs in a state
    /// file, so a restart finds the last run's API (`existingAPIs`) and the planner changes only
    /// what changed (the backend's port, say): the same WebSocket URL, and the same sessions. Only
    /// when the gateway no longer has the recorded API (its state file was deleted) are the
    /// record's ids forgotten, and that API's sessions, which died with it, marked disconnected.
    /// - Returns: the applied API's record, and the WebSocket URL pages connect to.
    public static func apply(
        _ provisioner: GatewayProvisioner, database: any Database, backend: String, stage: String, region: String,
        existingAPIs: Set<String>
    ) async throws -> (record: GatewayRecord, url: String) {
        if let stale = try await GatewayModel.query(on: database).filter(\.$name == gatewayName).with(\.$routes).first(),
            !(stale.apiID.map(existingAPIs.contains) ?? false)
        {
            if let old = try stale.apiID.map({ try APIID($0) }) { try await forgetSessions(of: old, store: provisioner.dispatcher.store) }
            stale.apiID = nil
            stale.apiEndpoint = nil
            stale.deploymentID = nil
            stale.apiMappingID = nil
            // The embedded gateway is this process's: a claim left by a run that died is void.
            stale.claimToken = nil
            stale.claimedAt = nil
            try await stale.save(on: database)
            for route in stale.routes {
                route.routeID = nil
                route.integrationID = nil
                route.deployed = false
                try await route.save(on: database)
            }
        }
        // The embedded gateway is this process's: a claim left by a run that died (a crash or a
        // signal during an apply) is void, and would otherwise hold every start for its timeout.
        try await GatewayModel.query(on: database).filter(\.$name == gatewayName)
            .set(\.$claimToken, to: nil).set(\.$claimedAt, to: nil).update()
        try await provisioner.configure(
            GatewaySettings(
                name: gatewayName, description: "The chat example on the embedded local gateway", defaultChannel: nil,
                targetBaseURL: backend, stage: stage, region: region))
        let applied = try await provisioner.apply(gatewayName)
        guard let record = try await provisioner.dispatcher.gateways.gateway(applied.apiID) else {
            throw ChatSetupError(description: "the applied API \(applied.apiID) is not in the gateway records")
        }
        let model = try await provisioner.model(named: gatewayName)
        return (record, (model.apiEndpoint ?? "ws://127.0.0.1") + "/" + record.stage)
    }

    private static func forgetSessions(of apiID: APIID, store: any ConnectionStore) async throws {
        while true {
            let page = try await store.sessions(SessionFilter(apiID: apiID, connected: true), after: nil, limit: 500)
            guard !page.isEmpty else { return }
            _ = try await store.markGone(page.map(\.connectionID), apiID: apiID, at: Date())
        }
    }
}

/// A fault of the examples' shared setup or commands, with its reason.
public struct ChatSetupError: Error, CustomStringConvertible {
    public let description: String
}
