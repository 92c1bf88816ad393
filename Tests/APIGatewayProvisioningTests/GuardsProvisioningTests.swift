import APIGatewayAWS
import APIGatewayLocal
import APIGatewayProvisioning
import APIGatewayWebSockets
import Foundation
import PeerSupport
import Testing

/// What API Gateway guards, declared from code: the plan shows each guard, an apply creates them
/// on the local gateway (and then plans nothing), a change plans the step that makes it, and the
/// exports with all of them pass cfn-lint and python-hcl2.
@Suite struct GuardsProvisioningTests {
    static let authorizer = DesiredAPI.Authorizer(
        name: "tokens", functionARN: "arn:aws:lambda:us-east-1:123456789012:function:ws-authorizer",
        identitySource: ["route.request.querystring.token"])

    var guarded: DesiredAPI {
        var desired = DesiredAPI(
            name: "chat", stage: "production",
            routes: [
                RegisteredRoute(routeKey: .connect, path: "/ws/connect", event: .connect),
                RegisteredRoute(routeKey: .disconnect, path: "/ws/disconnect", event: .disconnect),
                RegisteredRoute(routeKey: .default, path: "/ws/default", event: .message),
            ],
            publicBaseURL: "https://backend.example.com", secret: "never-in-the-template")
        desired.guards = DesiredAPI.Guards(
            connectAuthorization: .authorizer(Self.authorizer), apiKeyRequired: true,
            defaultThrottle: .init(rate: 50, burst: 100), routeThrottles: [.default: .init(rate: 5, burst: 10)],
            accessLog: .init(logGroupName: "ws-access", destinationARN: "arn:aws:logs:us-east-1:123456789012:log-group:ws-access"))
        desired.mapIdentity(.authorizerPrincipal(), secret: "never-in-the-template")
        return desired
    }

    @Test func thePlanShowsEveryGuard() throws {
        let plan = try Planner.plan(guarded, existing: nil)
        #expect(plan.steps.map(\.action).prefix(2) == [.createAPI, .createAuthorizer], "the authorizer comes before the route that uses it")
        let text = plan.description
        #expect(text.contains("+ authorizer 'tokens' (REQUEST, Lambda arn:aws:lambda:us-east-1:123456789012:function:ws-authorizer"))
        #expect(text.contains("+ $connect: route (CUSTOM authorizer 'tokens', API key required)"))
        #expect(text.contains("+ create stage 'production' (throttle 50/s burst 100, $default 5/s burst 10, access log → ws-access)"))
        let connect = try #require(guarded.routes.first { $0.routeKey == .connect })
        #expect(connect.requestParameters["integration.request.header.X-Apigw-Principal"] == "context.authorizer.principalId")
        #expect(connect.requestParameters["integration.request.header.X-Apigw-Identity-Mapped"] == "'never-in-the-template'")
        #expect(guarded.routes.filter { $0.requestParameters["integration.request.header.X-Apigw-Principal"] != nil }.count == 1)
        for text in [try InfrastructureExport.cloudFormationYAML(guarded), InfrastructureExport.terraform(guarded)] {
            #expect(!text.contains("never-in-the-template"), "the proof is the secret parameter in the exports")
        }
        let checklist = InfrastructureExport.consoleChecklist(for: plan)
        #expect(checklist.contains("Authorizers → Create: Lambda, name 'tokens'"))
    }

    @Test func anApplyCreatesThemOnTheLocalGatewayAndAChangePlansItsStep() async throws {
        let gateway = LocalGateway(configuration: LocalGatewayConfiguration(port: 0))
        try await gateway.start()
        let client = ControlPlaneClient(
            httpClient: .shared, credentials: StaticCredentialProvider(LocalGatewayConfiguration.developmentCredential),
            region: "us-east-1", endpoint: "http://127.0.0.1:\(gateway.port!)")
        let applied = try await Planner.apply(try Planner.plan(guarded, existing: nil), client: client)
        let api = try #require(gateway.currentAPIs.first { $0.apiId == applied.apiID.rawValue })
        let authorizer = try #require(api.authorizers?.values.first)
        #expect(authorizer.name == "tokens" && authorizer.identitySource == ["route.request.querystring.token"])
        #expect(authorizer.authorizerUri == Self.authorizer.authorizerURI)
        let connect = try #require(api.route("$connect"))
        #expect(connect.authorizationType == "CUSTOM" && connect.authorizerId == authorizer.authorizerId && connect.apiKeyRequired == true)
        #expect(api.route("$default")?.authorizationType == "NONE")
        let stage = try #require(api.stages["production"])
        let routeThrottle = try #require(stage.throttle(for: "$default")), stageThrottle = try #require(stage.throttle(for: "$connect"))
        #expect(routeThrottle == (5, 10) && stageThrottle == (50, 100))
        #expect(stage.accessLogSettings?.format == DesiredAPI.AccessLog.defaultFormat)

        // Read back, the API plans nothing; IAM instead of the authorizer is one route update.
        let existing = try await ExistingAPI.read(applied.apiID, stage: "production", client: client, for: guarded)
        let again = try Planner.plan(guarded, existing: existing)
        #expect(again.isEmpty, "\(again)")
        var iam = guarded
        iam.guards.connectAuthorization = .iam
        iam.guards.routeThrottles[.default] = .init(rate: 1, burst: 2)
        let change = try Planner.plan(iam, existing: existing)
        #expect(change.description.contains("~ $connect: authorization CUSTOM, API key required → AWS_IAM, API key required"))
        #expect(change.description.contains("~ stage 'production' $default throttle → 1/s burst 2"))
        try await Planner.apply(change, client: client)
        let after = try #require(gateway.currentAPIs.first { $0.apiId == applied.apiID.rawValue })
        #expect(after.route("$connect")?.authorizationType == "AWS_IAM" && after.route("$connect")?.authorizerId == nil)
        let throttle = try #require(after.stages["production"]?.throttle(for: "$default"))
        #expect(throttle == (1, 2))
        try await gateway.stop()
    }

    @Test func theExportsDeclareEveryGuardAndPassTheirCheckers() async throws {
        let template = try #require(
            try JSONSerialization.jsonObject(with: Data(try InfrastructureExport.cloudFormationJSON(guarded).utf8)) as? [String: Any])
        let resources = try #require(template["Resources"] as? [String: [String: Any]])
        #expect(resources["ConnectAuthorizer"]?["Type"] as? String == "AWS::ApiGatewayV2::Authorizer")
        #expect(resources["ConnectAuthorizerPermission"]?["Type"] as? String == "AWS::Lambda::Permission")
        #expect(resources["AccessLogGroup"]?["Type"] as? String == "AWS::Logs::LogGroup")
        #expect(resources["DeployPolicy"]?["Type"] as? String == "AWS::IAM::ManagedPolicy")
        let connect = try #require(resources["ConnectRoute"]?["Properties"] as? [String: Any])
        #expect(connect["AuthorizationType"] as? String == "CUSTOM" && connect["ApiKeyRequired"] as? Bool == true)
        let stage = try #require(resources["Stage"]?["Properties"] as? [String: Any])
        #expect((stage["RouteSettings"] as? [String: Any])?["$default"] != nil && stage["AccessLogSettings"] != nil)
        let run = IAMPolicies.run(region: "us-east-1", account: "123456789012", apiID: "abc123", stage: "production").json()
        #expect(run.contains(#""Action":["execute-api:ManageConnections"]"#))
        #expect(run.contains("arn:aws:execute-api:us-east-1:123456789012:abc123/production/*/@connections/*"))

        guard let python = await PythonPeer.require("cfnlint", named: "cfn-lint") else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("guards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let cfnLint = python.deletingLastPathComponent().appendingPathComponent("cfn-lint")
        for (name, text) in [
            ("guarded.yaml", try InfrastructureExport.cloudFormationYAML(guarded)),
            ("guarded.json", try InfrastructureExport.cloudFormationJSON(guarded)),
        ] {
            let path = folder.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let output = try await PythonPeer.run(cfnLint, [path], input: Data())
            #expect(output.status == 0, "cfn-lint \(name): \(String(decoding: output.stdout + output.stderr, as: UTF8.self))")
        }
        let terraform = folder.appendingPathComponent("main.tf").path
        try InfrastructureExport.terraform(guarded).write(toFile: terraform, atomically: true, encoding: .utf8)
        let script = PythonPeer.repositoryRoot.appendingPathComponent("Tests/Peers/check_terraform.py").path
        let checked = try await PythonPeer.run(python, [script, terraform, "$connect", "$disconnect", "$default", "--guards"], input: Data())
        #expect(checked.status == 0, "\(String(decoding: checked.stdout + checked.stderr, as: UTF8.self))")
        // The checker is not blind: an export without the guards fails it.
        var plain = guarded
        plain.guards = DesiredAPI.Guards()
        try InfrastructureExport.terraform(plain).write(toFile: terraform, atomically: true, encoding: .utf8)
        #expect(try await PythonPeer.run(python, [script, terraform, "$connect", "$disconnect", "$default", "--guards"], input: Data()).status != 0)
    }
}

extension GuardsProvisioningTests {
    // Read without the desired API, the authorizers were an empty list: every plan created the
    // authorizer again, each apply added one more of the same name (a review found it).
    @Test func anAPIReadWithoutItsAuthorizersIsNotPlannedAsIfItHadNone() throws {
        var api = APIGatewayV2.Api(name: "chat", routeSelectionExpression: "$request.body.action")
        api.apiId = "abc123"
        let unread = ExistingAPI(api: api, integrations: [], routes: [], routeResponses: [:], stage: nil)
        let error = #expect(throws: ProvisioningError.self) { try Planner.plan(guarded, existing: unread) }
        #expect(error?.description.contains("authorizers were not read") == true, "\(String(describing: error))")
        var read = unread
        read.authorizers = []
        #expect(try Planner.plan(guarded, existing: read).steps.map(\.action).contains(.createAuthorizer))
    }
}
