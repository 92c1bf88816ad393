import APIGatewayAWS
import APIGatewayProvisioning
import APIGatewayWebSockets
import Testing

/// Field validation of gateway and route records, and how settings and additional routes become
/// the desired API.
struct GatewaySettingsTests {
    func problems(_ settings: GatewaySettings, hosts: Set<String> = []) -> [String: String] {
        do {
            try settings.validate(allowedIntegrationHosts: hosts)
            return [:]
        } catch {
            return Dictionary(error.problems.map { ($0.field, $0.message) }, uniquingKeysWith: { a, _ in a })
        }
    }

    let valid = GatewaySettings(name: "chat", targetBaseURL: "https://backend.example.com")

    @Test func validSettingsPass() {
        #expect(problems(valid).isEmpty)
        var full = valid
        full.customDomain = "ws.example.com"
        full.certificateARN = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"
        full.hostedZoneID = "Z08123456ABCDEFGHIJK"
        full.region = "eu-west-1"
        full.tags = ["team": "chat"]
        full.defaultChannel = "lobby"
        #expect(problems(full, hosts: ["backend.example.com"]).isEmpty)
    }

    @Test(arguments: [
        ("", "name"), ("chat!", "name"), (" chat", "name"), (String(repeating: "a", count: 129), "name"),
    ])
    func apiNames(name: String, field: String) {
        var settings = valid
        settings.name = name
        #expect(problems(settings)[field] != nil, "'\(name)'")
    }

    @Test(arguments: [
        "ws..example.com", "-ws.example.com", "ws-.example.com", "localhost", "WS.example.com", "ws.example.com.", "192.168.0.1",
        "ws_1.example.com", String(repeating: "a", count: 64) + ".example.com",
    ])
    func badDomains(domain: String) {
        var settings = valid
        settings.customDomain = domain
        settings.certificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
        #expect(problems(settings)["customDomain"] != nil, "'\(domain)'")
    }

    @Test func otherFieldsNameTheirProblem() {
        var settings = valid
        settings.targetBaseURL = "backend.example.com/path"
        settings.stage = "prod stage"
        settings.region = "Europe"
        settings.routeSelectionExpression = "action"
        settings.apiKeySelectionExpression = "$request.body.key"
        settings.defaultChannel = "has space"
        settings.customDomain = "ws.example.com"
        settings.hostedZoneID = "zone"
        settings.tags = ["aws:createdBy": "me"]
        let found = problems(settings)
        #expect(
            Set(found.keys) == [
                "targetBaseURL", "stage", "region", "routeSelectionExpression", "apiKeySelectionExpression", "defaultChannel",
                "certificateARN", "hostedZoneID", "tags",
            ])
        #expect(found["certificateARN"] == "a custom domain needs its ACM certificate ARN")
        #expect(found["targetBaseURL"] == "'backend.example.com/path' is not an absolute http(s) URL")
    }

    @Test func integrationHostsAreLimitedToTheAllowList() {
        var settings = valid
        settings.targetBaseURL = "https://attacker.example.net"
        #expect(
            problems(settings, hosts: ["backend.example.com"])["targetBaseURL"]?.contains("not in the allowed integration hosts") == true)
        #expect(problems(settings).isEmpty, "no list, any host")
        let route = AdditionalRoute(name: "Billing", routeKey: "billing", integrationURL: "https://attacker.example.net/ws?x=1")
        #expect(throws: ProvisioningError.self) { try route.validate() }
        #expect(throws: ProvisioningError.self) {
            try AdditionalRoute(name: "Billing", routeKey: "billing", integrationURL: "https://attacker.example.net/ws").validate(
                allowedIntegrationHosts: ["backend.example.com"])
        }
        #expect(throws: ProvisioningError.self) {
            try AdditionalRoute(name: "", routeKey: "billing", integrationURL: "https://a.example.com").validate()
        }
        let empty = String()
        #expect(throws: IdentifierError.self, "an empty route key cannot be made at all") { try RouteKey(empty) }
    }

    @Test func additionalRoutesJoinTheRegisteredOnesAndMayNotReuseAKey() throws {
        let registered = [
            RegisteredRoute(routeKey: .connect, path: "/ws/connect", event: .connect),
            RegisteredRoute(routeKey: .default, path: "/ws/default", event: .message),
        ]
        var settings = valid
        settings.description = "chat"
        settings.stageDescription = "live"
        let desired = try DesiredAPI(
            settings: settings, routes: registered,
            additionalRoutes: [AdditionalRoute(name: "B", routeKey: "billing", integrationURL: "https://billing.example.com/ws")],
            secret: "s"
        )
        #expect(desired.routes.map(\.routeKey) == ["$connect", "$default", "billing"])
        #expect(desired.routes.last?.integrationURI == "https://billing.example.com/ws")
        #expect(
            desired.routes.last?.requestParameters == desired.routes.first?.requestParameters, "the same connectionId and secret mapping")
        #expect(desired.description == "chat" && desired.stageDescription == "live")
        #expect(throws: ProvisioningError.self) {
            try DesiredAPI(
                settings: settings, routes: registered,
                additionalRoutes: [AdditionalRoute(name: "dup", routeKey: "$default", integrationURL: "https://x.example.com/ws")],
                secret: nil)
        }
    }
}
