import Foundation
import HTTPTypes
public import NIOCore

/// The JavaScript client (`apigw-websockets.js`, one dependency-free ES module) and its
/// TypeScript declarations, from this module's resources, for either door to serve.
public enum ClientScript {
    /// The client's source.
    /// - Throws: ``ClientScriptError`` when the resource is missing from the build.
    public static func source() throws -> ByteBuffer { try resource("apigw-websockets", "js") }

    /// The answer to `GET /apigw-websockets.js`: the source as `text/javascript`, revalidated on
    /// every load (`no-cache`) so a page never runs a client older than its server.
    public static func response() throws -> GatewayResponse {
        GatewayResponse(
            status: .ok,
            headerFields: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "no-cache"],
            body: try source())
    }

    private static func resource(_ name: String, _ type: String) throws -> ByteBuffer {
        guard let url = Bundle.module.url(forResource: name, withExtension: type) else {
            throw ClientScriptError(description: "\(name).\(type) is missing from the module's resources")
        }
        return ByteBuffer(data: try Data(contentsOf: url))
    }
}

/// The client script could not be loaded.
public struct ClientScriptError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// What a page needs to connect: the WebSocket URL and the token endpoint, rendered into the page
/// (`#apigwSettings()` in the Vapor admin module's Leaf tags, ``scriptJSON`` by hand) for the
/// JavaScript client's `GatewaySocket.fromPage()`.
public struct ClientSettings: Sendable, Hashable, Codable {
    /// The WebSocket URL: API Gateway's `wss://{api}.execute-api.{region}.amazonaws.com/{stage}`, a
    /// custom domain, or the local gateway's.
    public var url: String
    /// The token endpoint (`/ws/token`); `nil` when the login cookie reaches the WebSocket's host.
    public var tokenURL: String?
    /// Channels every page joins.
    public var channels: [String]
    /// The heartbeat's action, as the backend answers it (`GatewayConfiguration/heartbeatAction`);
    /// `nil`: the client sends none.
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

    /// The `<script type="application/json" id="apigw-settings">` element the client's
    /// `GatewaySocket.fromPage()` reads.
    public var scriptElement: String { #"<script type="application/json" id="apigw-settings">"# + scriptJSON + "</script>" }
}
