/// Why a browser's write is another site's: the one check the token endpoint, the admin and an
/// app's own forms share, in either door.
public struct CrossSiteWrite: Sendable, Hashable {
    /// `cross_site` or `origin_not_allowed`, for metrics.
    public let code: String
    /// Safe to show: `Cross-site request` or `Origin not allowed`.
    public let reason: String

    /// The refusal a request with these headers earns, or `nil`: `Sec-Fetch-Site: cross-site`, or
    /// an `Origin` that `configuration.allowedOrigins` does not list (the request's own `Host` when
    /// the list is empty). A request with neither header is not a browser's cross-site write.
    public static func of(secFetchSite: String?, origin: String?, host: String?, configuration: GatewayConfiguration) -> CrossSiteWrite? {
        if secFetchSite?.lowercased() == "cross-site" {
            return CrossSiteWrite(code: "cross_site", reason: "Cross-site request")
        }
        guard let origin else { return nil }
        let allowed: Bool
        if configuration.allowedOrigins.isEmpty {
            // Both must be read: an Origin that does not parse ("null" from a sandboxed frame) is
            // not the request's own host, even when the Host header is missing too.
            let own = host.flatMap { GatewayConfiguration.host(ofOrigin: "http://" + $0) }
            if let own, let host = GatewayConfiguration.host(ofOrigin: origin) { allowed = host == own } else { allowed = false }
        } else {
            allowed = configuration.allows(origin: origin)
        }
        return allowed ? nil : CrossSiteWrite(code: "origin_not_allowed", reason: "Origin not allowed")
    }
}
