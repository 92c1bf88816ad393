import APIGatewayAWS
import APIGatewayLocal
import APIGatewayProvisioning
import APIGatewayWebSockets
import ChatCore
import Fluent
import Foundation
import Vapor
import VaporAPIGatewayWebSockets

/// The guide's "register the route" step, walked by the example itself: the app's routes become
/// the embedded local gateway's API through the same planner and apply a user runs against AWS
/// (`gateway apply`), then pages learn the WebSocket URL.
public enum ChatProvisioning {
    /// The gateway record's name.
    public static let gatewayName = ChatLocalGateway.gatewayName

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
        let (record, url) = try await ChatLocalGateway.apply(
            provisioner, database: app.db, backend: backend, stage: settings.gateway.stage, region: settings.gateway.region,
            existingAPIs: existingAPIs)
        gateway.clientSettings = ClientSettings(url: url, tokenURL: "/ws/token", channels: ["lobby"])
        return record
    }
}
