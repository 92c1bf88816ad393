import APIGatewayWebSockets
import Testing
import Vapor
import VaporAPIGatewayWebSockets

/// The one cross-site write check of the token endpoint, the admin and an app's forms, with no
/// allowed origins configured (the request's own host is the one allowed).
@Suite struct CrossSiteWriteTests {
    @Test(arguments: [
        (["Origin": "http://127.0.0.1:9000", "Host": "127.0.0.1:9000"], nil),
        ([:], nil),
        (["Origin": "http://evil.example", "Host": "127.0.0.1:9000"], "origin_not_allowed"),
        (["Sec-Fetch-Site": "cross-site", "Host": "127.0.0.1:9000"], "cross_site"),
        // Neither side readable: before, nil == nil let it through as the request's own site.
        (["Origin": "null"], "origin_not_allowed"),
        (["Origin": "null", "Host": "[::1"], "origin_not_allowed"),
    ] as [([String: String], String?)])
    func writesFromAnotherSiteAreRefused(headers: [String: String], refusal: String?) async throws {
        let app = try await Application.make(.testing)
        let request = Request(
            application: app, method: .POST, url: "/ws/token", headers: HTTPHeaders(headers.map { ($0.key, $0.value) }),
            on: app.eventLoopGroup.next())
        #expect(CrossSiteWrite.of(request, configuration: GatewayConfiguration(secrets: ["s3cret"]))?.code == refusal)
        try await app.asyncShutdown()
    }
}
