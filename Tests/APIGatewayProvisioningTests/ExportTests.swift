import APIGatewayWebSockets
import Foundation
import PeerSupport
import Testing

@testable import APIGatewayProvisioning

/// The IaC exports of the desired API: CloudFormation passes cfn-lint, Terraform parses with
/// python-hcl2, and our own checks cover what cfn-lint does not (`ProtocolType: WEBSOCKET`, a
/// route selection expression).
@Suite struct ExportTests {
    let desired = DesiredAPI(
        name: "chat", stage: "production",
        routes: [
            RegisteredRoute(routeKey: .connect, path: "/ws/connect", event: .connect),
            RegisteredRoute(routeKey: .disconnect, path: "/ws/disconnect", event: .disconnect),
            RegisteredRoute(routeKey: .default, path: "/ws/default", event: .message),
            RegisteredRoute(routeKey: "notifications", path: "/websockets/notifications/", event: .message),
        ],
        publicBaseURL: "https://backend.example.com/", secret: "never-in-the-template", twoWayRouteKeys: ["notifications"]
    )

    /// The same routes with everything a gateway record may add: description, tags, stage
    /// description, an additional route and a custom domain.
    var decorated: DesiredAPI {
        get throws {
            try DesiredAPI(
                settings: GatewaySettings(
                    name: "chat", description: "Chat \"rooms\"", targetBaseURL: "https://backend.example.com", stageDescription: "live",
                    tags: ["team": "chat", "cost-centre": "42"], customDomain: "ws.example.com",
                    certificateARN: "arn:aws:acm:us-east-1:123456789012:certificate/abc-123"
                ),
                routes: [
                    RegisteredRoute(routeKey: .connect, path: "/ws/connect", event: .connect),
                    RegisteredRoute(routeKey: .disconnect, path: "/ws/disconnect", event: .disconnect),
                    RegisteredRoute(routeKey: .default, path: "/ws/default", event: .message),
                ],
                additionalRoutes: [AdditionalRoute(name: "Billing", routeKey: "billing", integrationURL: "https://billing.example.com/ws")],
                secret: "never-in-the-template"
            )
        }
    }

    @Test func recordSettingsReachTheExports() throws {
        let desired = try decorated
        let resources = try #require(try templateObject(desired)["Resources"] as? [String: [String: Any]])
        let api = try #require(resources["WebSocketApi"]?["Properties"] as? [String: Any])
        #expect(
            api["Tags"] as? [String: String] == ["team": "chat", "cost-centre": "42"] && api["Description"] as? String == #"Chat "rooms""#)
        #expect((resources["Stage"]?["Properties"] as? [String: Any])?["Description"] as? String == "live")
        #expect((resources["CustomDomain"]?["Properties"] as? [String: Any])?["DomainName"] as? String == "ws.example.com")
        #expect(resources["CustomDomainMapping"]?["Type"] as? String == "AWS::ApiGatewayV2::ApiMapping")
        let terraform = InfrastructureExport.terraform(desired)
        #expect(terraform.contains(#"resource "aws_apigatewayv2_domain_name" "this""#) && terraform.contains(#""cost-centre" = "42""#))
        #expect(terraform.contains("https://billing.example.com/ws") && !terraform.contains("never-in-the-template"))
        #expect(InfrastructureExport.consoleChecklist(desired).contains("Custom domain names → Create: 'ws.example.com'"))
    }

    /// The CloudFormation template as JSON objects, as a reader of the file sees it.
    func templateObject(_ desired: DesiredAPI) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(try InfrastructureExport.cloudFormationJSON(desired).utf8)) as? [String: Any])
    }

    func write(_ text: String, _ name: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func ourOwnChecks() throws {
        let template = try templateObject(desired)
        let resources = try #require(template["Resources"] as? [String: [String: Any]])
        let api = try #require(resources["WebSocketApi"]?["Properties"] as? [String: Any])
        #expect(api["ProtocolType"] as? String == "WEBSOCKET")
        #expect(api["RouteSelectionExpression"] as? String == "$request.body.action")
        let routeKeys = resources.values.filter { $0["Type"] as? String == "AWS::ApiGatewayV2::Route" }
            .compactMap { ($0["Properties"] as? [String: Any])?["RouteKey"] as? String }
        #expect(Set(routeKeys) == ["$connect", "$disconnect", "$default", "notifications"])
        #expect(resources.values.filter { $0["Type"] as? String == "AWS::ApiGatewayV2::RouteResponse" }.count == 1)
        for text in [
            try InfrastructureExport.cloudFormationJSON(desired), try InfrastructureExport.cloudFormationYAML(desired),
            InfrastructureExport.terraform(desired),
        ] {
            #expect(!text.contains("never-in-the-template"), "the secret is a parameter, never written out")
            #expect(text.contains("https://backend.example.com/websockets/notifications/"))
        }
        #expect(InfrastructureExport.hcl("${request.body.a}-x") == #""$${request.body.a}-x""#)
        let checklist = InfrastructureExport.consoleChecklist(desired)
        #expect(checklist.contains("`notifications` → https://backend.example.com/websockets/notifications/"))
    }

    @Test func cloudFormationPassesCfnLint() async throws {
        guard let python = await PythonPeer.require("cfnlint", named: "cfn-lint") else { return }
        let cfnLint = python.deletingLastPathComponent().appendingPathComponent("cfn-lint")
        let yaml = try write(try InfrastructureExport.cloudFormationYAML(desired), "ws.yaml")
        let json = try write(try InfrastructureExport.cloudFormationJSON(desired), "ws.json")
        let decoratedYAML = try write(try InfrastructureExport.cloudFormationYAML(try decorated), "decorated.yaml")
        let decoratedJSON = try write(try InfrastructureExport.cloudFormationJSON(try decorated), "decorated.json")
        for file in [yaml, json, decoratedYAML, decoratedJSON] {
            let output = try await PythonPeer.run(cfnLint, [file], input: Data())
            #expect(
                output.status == 0,
                "cfn-lint \(file): \(String(decoding: output.stdout, as: UTF8.self))\(String(decoding: output.stderr, as: UTF8.self))")
        }
        // cfn-lint is not blind: a broken copy fails.
        let broken = try write(
            try InfrastructureExport.cloudFormationYAML(desired).replacingOccurrences(of: "RouteKey:", with: "RouteKeyX:"), "broken.yaml")
        #expect(try await PythonPeer.run(cfnLint, [broken], input: Data()).status != 0)
    }

    @Test func terraformParsesWithPythonHCL2() async throws {
        guard let python = await PythonPeer.require("hcl2", named: "python-hcl2") else { return }
        let file = try write(InfrastructureExport.terraform(desired), "main.tf")
        let script = PythonPeer.repositoryRoot.appendingPathComponent("Tests/Peers/check_terraform.py").path
        let output = try await PythonPeer.run(
            python, [script, file, "$connect", "$disconnect", "$default", "notifications"], input: Data())
        #expect(
            output.status == 0 && String(decoding: output.stdout, as: UTF8.self).hasPrefix("ok"),
            "\(String(decoding: output.stdout, as: UTF8.self))\(String(decoding: output.stderr, as: UTF8.self))")
        let decoratedFile = try write(InfrastructureExport.terraform(try decorated), "decorated.tf")
        let decoratedOutput = try await PythonPeer.run(
            python, [script, decoratedFile, "$connect", "$disconnect", "$default", "billing", "--domain", "ws.example.com"], input: Data())
        #expect(
            decoratedOutput.status == 0 && String(decoding: decoratedOutput.stdout, as: UTF8.self).hasPrefix("ok"),
            "\(String(decoding: decoratedOutput.stdout, as: UTF8.self))\(String(decoding: decoratedOutput.stderr, as: UTF8.self))")
        // The checker is not blind: a mapping without its domain fails.
        let broken = try write(
            InfrastructureExport.terraform(try decorated).replacingOccurrences(
                of: #"resource "aws_apigatewayv2_api_mapping""#, with: #"resource "aws_apigatewayv2_other""#), "broken.tf")
        #expect(
            try await PythonPeer.run(
                python, [script, broken, "$connect", "$disconnect", "$default", "billing", "--domain", "ws.example.com"], input: Data()
            ).status != 0)
    }
}
