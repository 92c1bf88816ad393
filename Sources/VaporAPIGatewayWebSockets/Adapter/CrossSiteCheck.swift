public import APIGatewayWebSockets
public import Vapor

extension CrossSiteWrite {
    /// The refusal `request` earns, or `nil` (`CrossSiteWrite.of(secFetchSite:origin:host:configuration:)`).
    public static func of(_ request: Request, configuration: GatewayConfiguration) -> CrossSiteWrite? {
        of(
            secFetchSite: request.headers.first(name: "Sec-Fetch-Site"), origin: request.headers.first(name: .origin),
            host: request.headers.first(name: .host), configuration: configuration)
    }
}

/// Refuses another site's writes 403 (`CrossSiteWrite`), for an app's own forms.
public struct SameOriginWrites: AsyncMiddleware {
    public let configuration: GatewayConfiguration

    public init(configuration: GatewayConfiguration) { self.configuration = configuration }

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if let refused = CrossSiteWrite.of(request, configuration: configuration) { throw Abort(.forbidden, reason: refused.reason) }
        return try await next.respond(to: request)
    }
}
