import Foundation
import Synchronization
import Vapor

/// What a page needs to connect: the WebSocket URL and the token endpoint, rendered into the page
/// (`#apigwSettings()` in the admin module's Leaf tags, or by hand) for the JavaScript client's
/// `GatewaySocket.fromPage()`.
public struct ClientSettings: Sendable, Hashable, Codable {
    /// The WebSocket URL: API Gateway's `wss://{api}.execute-api.{region}.amazonaws.com/{stage}`, a
    /// custom domain, or the local gateway's.
    public var url: String
    /// The token endpoint (`/ws/token`); `nil` when the login cookie reaches the WebSocket's host.
    public var tokenURL: String?
    /// Channels every page joins.
    public var channels: [String]
    /// The heartbeat's action, as the backend answers it (`GatewayConfiguration/heartbeatAction`);
    /// `nil`: the client sends none. `#apigwSettings()` fills it from the gateway's configuration.
    public var heartbeatAction: String?

    public init(url: String, tokenURL: String? = "/ws/token", channels: [String] = [], heartbeatAction: String? = "ping") {
        self.url = url
        self.tokenURL = tokenURL
        self.channels = channels
        self.heartbeatAction = heartbeatAction
    }

    private enum CodingKeys: String, CodingKey { case url, tokenURL, channels, heartbeatAction }

    /// Every key, `null` included: a `null` heartbeat turns the client's off.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(url, forKey: .url)
        try container.encode(tokenURL, forKey: .tokenURL)
        try container.encode(channels, forKey: .channels)
        try container.encode(heartbeatAction, forKey: .heartbeatAction)
    }

    /// The settings as JSON safe inside a `<script>` element (`<`, `>`, `&` escaped).
    public var scriptJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return json.replacingOccurrences(of: "<", with: "\\u003c").replacingOccurrences(of: ">", with: "\\u003e")
            .replacingOccurrences(of: "&", with: "\\u0026")
    }
}

extension WebSocketGateway {
    /// Serves the JavaScript client, one dependency-free ES module, at `GET /{path}` (default
    /// `/apigw-websockets.js`).
    public func serveClientScript(at path: String = "apigw-websockets.js") throws {
        let script = try Self.clientScript()
        let components = path.split(separator: "/").map { PathComponent.constant(String($0)) }
        routes.on(.GET, components) { _ -> Response in
            var headers = HTTPHeaders()
            headers.contentType = HTTPMediaType(type: "text", subType: "javascript", parameters: ["charset": "utf-8"])
            headers.cacheControl = .init(noCache: true)
            return Response(status: .ok, headers: headers, body: .init(buffer: script))
        }
    }

    /// The client's source, read once from the module's resources.
    static func clientScript() throws -> ByteBuffer {
        guard let url = Bundle.module.url(forResource: "apigw-websockets", withExtension: "js") else {
            throw ClientScriptError(description: "apigw-websockets.js is missing from the module's resources")
        }
        return ByteBuffer(data: try Data(contentsOf: url))
    }

    /// What pages need to connect, once the app knows it (the WebSocket URL is known after the API
    /// exists); read by `#apigwSettings()`.
    public var clientSettings: ClientSettings? {
        get { clientSettingsBox.withLock { $0 } }
        set { clientSettingsBox.withLock { $0 = newValue } }
    }
}

/// The client script could not be loaded.
public struct ClientScriptError: Error, Sendable, CustomStringConvertible {
    public let description: String
}
