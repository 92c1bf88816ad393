public import APIGatewayWebSockets
import Foundation
import Synchronization
import Vapor

extension WebSocketGateway {
    /// Serves the JavaScript client, one dependency-free ES module, at `GET /{path}` (default
    /// `/apigw-websockets.js`).
    public func serveClientScript(at path: String = "apigw-websockets.js") throws {
        let script = Response(try ClientScript.response())
        let components = path.split(separator: "/").map { PathComponent.constant(String($0)) }
        routes.on(.GET, components) { _ -> Response in
            Response(status: script.status, headers: script.headers, body: .init(buffer: script.body.buffer ?? ByteBuffer()))
        }
    }

    /// What pages need to connect, once the app knows it (the WebSocket URL is known after the API
    /// exists); read by `#apigwSettings()`.
    public var clientSettings: ClientSettings? {
        get { clientSettingsBox.withLock { $0 } }
        set { clientSettingsBox.withLock { $0 = newValue } }
    }
}
