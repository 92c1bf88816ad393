import APIGatewayWebSockets
import Leaf
public import LeafKit
public import Vapor
import VaporAPIGatewayWebSockets

/// `#apigwSettings()`: renders the page's connection settings (the WebSocket URL, the token
/// endpoint) as `<script type="application/json" id="apigw-settings">`, which the JavaScript
/// client's `GatewaySocket.fromPage()` reads, as the Python package's template-context mixin does.
///
/// ```swift
/// app.views.use(.leaf)
/// ClientSettingsTag.register(on: app)
/// gateway.clientSettings = ClientSettings(url: "wss://ws.example.com/production")
/// ```
public struct ClientSettingsTag: UnsafeUnescapedLeafTag {
    public init() {}

    public func render(_ context: LeafContext) throws -> LeafData {
        guard let gateway = context.application?.webSocketGateway, var settings = gateway.clientSettings else {
            throw "apigwSettings: the gateway has no clientSettings yet"
        }
        // The client's heartbeat is the one the backend answers.
        settings.heartbeatAction = gateway.dispatcher.configuration.heartbeatAction
        return .string(settings.scriptElement)
    }

    /// Registers the tag as `apigwSettings` in `app`'s Leaf.
    public static func register(on app: Application) {
        app.leaf.tags["apigwSettings"] = ClientSettingsTag()
    }
}
