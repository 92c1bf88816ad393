import APIGatewayAWS
import APIGatewayLocal
import APIGatewayProvisioning
import APIGatewayWebSockets
import Fluent
import Foundation
import Vapor
import VaporAPIGatewayWebSockets

/// The guide's "register the route" step, walked by the example itself: the app's routes become
/// the embedded local gateway's API through the same planner and apply a user runs against AWS
/// (`gateway apply`), then pages learn the WebSocket URL.
public enum ChatProvisioning {
    /// The gateway record's name.
    public static let gatewayName = "chat"

    /// Configures the `chat` gateway record for `backend`, applies it to the local gateway at
    /// `controlPlane`, and points pages at the API. The embedded gateway keeps its APIs in a state
    /// file beside the database, so a restart finds the last run's API (`existingAPIs`) and the
    /// planner changes only what changed (the backend's port, say): the same WebSocket URL, and
    /// the same sessions. Only when the gateway no longer has the recorded API (its state file was
    /// deleted) are the record's ids forgotten, and that API's sessions, which died with it, marked
    /// disconnected.
    /// - Returns: the applied API's record.
    @discardableResult
    public static func provisionLocalGateway(
        _ app: Application, gateway: WebSocketGateway, settings: ChatSettings, backend: String, controlPlane: String,
        existingAPIs: Set<String> = []
    ) async throws -> GatewayRecord {
        let provisioner = ChatControlPlane(endpoint: controlPlane, credentials: ChatSettings.localCredentials)
            .provisioner(for: gateway, app: app)
        if let stale = try await GatewayModel.query(on: app.db).filter(\.$name == gatewayName).with(\.$routes).first(),
            !(stale.apiID.map(existingAPIs.contains) ?? false)
        {
            if let old = try stale.apiID.map({ try APIID($0) }) { try await forgetSessions(of: old, store: gateway.dispatcher.store) }
            stale.apiID = nil
            stale.apiEndpoint = nil
            stale.deploymentID = nil
            stale.apiMappingID = nil
            // The embedded gateway is this process's: a claim left by a run that died is void.
            stale.claimToken = nil
            stale.claimedAt = nil
            try await stale.save(on: app.db)
            for route in stale.routes {
                route.routeID = nil
                route.integrationID = nil
                route.deployed = false
                try await route.save(on: app.db)
            }
        }
        try await provisioner.configure(
            GatewaySettings(
                name: gatewayName, description: "The chat example on the embedded local gateway", defaultChannel: nil,
                targetBaseURL: backend, stage: settings.gateway.stage, region: settings.gateway.region))
        let applied = try await provisioner.apply(gatewayName)
        guard let record = try await gateway.directory.gateway(applied.apiID) else {
            throw ChatError(description: "the applied API \(applied.apiID) is not in the gateway records")
        }
        let model = try await provisioner.model(named: gatewayName)
        gateway.clientSettings = ClientSettings(
            url: (model.apiEndpoint ?? "ws://127.0.0.1") + "/" + record.stage, tokenURL: "/ws/token", channels: ["lobby"])
        return record
    }

    private static func forgetSessions(of apiID: APIID, store: any ConnectionStore) async throws {
        while true {
            let page = try await store.sessions(SessionFilter(apiID: apiID, connected: true), after: nil, limit: 500)
            guard !page.isEmpty else { return }
            _ = try await store.markGone(page.map(\.connectionID), apiID: apiID, at: Date())
        }
    }
}
