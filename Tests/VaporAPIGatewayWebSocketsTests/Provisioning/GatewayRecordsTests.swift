import APIGatewayAWS
import APIGatewayProvisioning
import APIGatewayWebSockets
import Fluent
import FluentSQLiteDriver
import Foundation
import PeerSupport
import Synchronization
import Testing
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

@testable import APIGatewayLocal

/// The `gateway` command over gateway and route records: configure with validation, plan, apply
/// recording every AWS id, resume after a failure at any step, one apply at a time, additional
/// routes, import, secret rotation, and the custom-domain step; against the local gateway and moto.
@Suite(.serialized) struct GatewayRecordsTests {
    /// An app (not serving) with its records in a fresh SQLite file, the chat controllers, and a
    /// control plane at `endpoint`.
    final class Fixture: Sendable {
        let app: Application
        let ws: WebSocketGateway
        let endpoint: String
        let database: String

        init(
            endpoint: String, database: String? = nil, secrets: [String] = ["first-secret-0123456789"],
            provisioning: ProvisioningOptions = ProvisioningOptions()
        ) async throws {
            self.endpoint = endpoint
            self.database =
                database ?? FileManager.default.temporaryDirectory.appendingPathComponent("records-\(UUID().uuidString).sqlite").path
            app = try await Application.make(.testing)
            app.databases.use(.sqlite(.file(self.database)), as: .sqlite)
            app.migrations.add(WebSocketMigrations.all)
            if database == nil { try await app.autoMigrate() }
            ws = WebSocketGateway(
                app: app, configuration: GatewayConfiguration(secrets: secrets), store: InMemoryConnectionStore(),
                poster: LoggingPoster(logger: app.logger), provisioning: provisioning)
            try ws.register(DefaultRoute())
            try ws.register(NotificationsRoute(), at: "/websockets/notifications/")
        }

        var client: ControlPlaneClient { client(region: "us-east-1") }

        func client(region: String) -> ControlPlaneClient {
            ControlPlaneClient(
                httpClient: .shared, credentials: StaticCredentialProvider(LocalGatewayConfiguration.developmentCredential),
                region: region, endpoint: endpoint)
        }

        var provisioner: GatewayProvisioner { GatewayProvisioner(gateway: ws) { self.client(region: $0) } }

        /// `App gateway <command> <arguments>` as a person types it, parsed by Vapor, with
        /// `--gateway chat` unless the arguments name one, and this fixture's control plane for
        /// the commands that call it. Returns what the command wrote to standard output.
        @discardableResult
        func run(_ command: String, _ arguments: String...) async throws -> String {
            var line = ["App", "gateway", command] + arguments
            if !arguments.contains("--gateway") { line += ["--gateway", "chat"] }
            if ["plan", "apply", "domain", "import", "rotate-secret"].contains(command) { line += ["--endpoint", endpoint] }
            let console = RecordingConsole()
            var context = CommandContext(console: console, input: CommandInput(arguments: line))
            context.application = app
            let group = AsyncCommands(commands: [
                "gateway": GatewayCommands(credentials: StaticCredentialProvider(LocalGatewayConfiguration.developmentCredential))
            ]).group()
            try await console.run(group, with: context)
            var text = console.text
            if text.hasSuffix("\n") { text.removeLast() }
            return text
        }

        func model() async throws -> GatewayModel { try await provisioner.model(named: "chat") }

        func shutdown(removingDatabase: Bool = true) async throws {
            try await app.asyncShutdown()
            if removingDatabase { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) } }
        }
    }

    func localGateway() async throws -> LocalGateway {
        let gateway = LocalGateway(configuration: LocalGatewayConfiguration(port: 0))
        try await gateway.start()
        return gateway
    }

    func configure(_ fixture: Fixture, url: String = "https://backend.example.com") async throws {
        try await fixture.run("configure", "--public-url", url, "--stage", "dev")
    }

    @Test func configureValidatesEveryFieldAndSavesNothingWhenOneIsBad() async throws {
        let fixture = try await Fixture(
            endpoint: "http://127.0.0.1:9", provisioning: ProvisioningOptions(allowedIntegrationHosts: ["backend.example.com"]))
        let error = await #expect(throws: ProvisioningError.self) {
            try await fixture.run(
                "configure", "--gateway", "chat!", "--public-url", "https://evil.example.net", "--domain", "ws..example.com", "--tags",
                "aws:owner=me")
        }
        #expect(error?.status == .badRequest)
        for field in [
            "name:", "targetBaseURL: host 'evil.example.net' is not in the allowed integration hosts", "customDomain:",
            "certificateARN: a custom domain needs its ACM certificate ARN", "tags: tag key 'aws:owner'",
        ] {
            #expect(error?.reason.contains(field) == true, "\(field) in \(error?.reason ?? "")")
        }
        await #expect(throws: ProvisioningError.self, "nothing was saved") { try await fixture.provisioner.soleGatewayName() }
        await #expect(throws: GatewayCommandError.self, "a new gateway needs its URL") { try await fixture.run("configure") }

        try await fixture.run(
            "configure", "--public-url", "https://backend.example.com", "--domain", "ws.example.com", "--certificate-arn",
            "arn:aws:acm:us-east-1:123456789012:certificate/abc-123", "--hosted-zone-id", "Z0123456789ABC", "--tags", "team=chat, env=dev")
        try await fixture.run("configure", "--stage", "dev", "--stage-description", "development")
        let model = try await fixture.model()
        #expect(model.stage == "dev" && model.stageDescription == "development" && model.targetBaseURL == "https://backend.example.com")
        #expect(model.tags == ["team": "chat", "env": "dev"] && model.customDomain == "ws.example.com" && model.status == .draft)
        await #expect(throws: ProvisioningError.self, "a bad certificate is refused on update too") {
            try await fixture.run("configure", "--certificate-arn", "not-an-arn")
        }
        #expect(try await fixture.model().certificateARN == "arn:aws:acm:us-east-1:123456789012:certificate/abc-123")
        try await fixture.shutdown()
    }

    @Test func applyRecordsTheAPIAndServesItThenManagesAdditionalRoutes() async throws {
        let gateway = try await localGateway()
        let fixture = try await Fixture(endpoint: "http://127.0.0.1:\(gateway.port!)")
        try await configure(fixture)
        #expect(
            try await fixture.run("plan", "--format", "console").hasPrefix("1. API Gateway → Create API → WebSocket API: name 'chat'"))
        let plan = try await fixture.run("plan")
        #expect(
            plan.contains("+ create WebSocket API 'chat'")
                && plan.contains("+ notifications: integration POST https://backend.example.com/websockets/notifications/"))
        #expect(gateway.currentAPIs.isEmpty, "plan changes nothing")

        let applied = try await fixture.run("apply")
        let model = try await fixture.model()
        let apiID = try #require(model.apiID)
        #expect(applied.contains("Applied: API \(apiID), stage 'dev'"))
        #expect(model.status == .applied && model.lastError == nil && model.claimToken == nil && model.deploymentID != nil)
        #expect(model.apiEndpoint == "ws://127.0.0.1:\(gateway.port!)/\(apiID)")
        let served = try #require(try await fixture.ws.directory.gateway(try APIID(apiID)), "the applied API's events are accepted")
        #expect(served.managementEndpoint?.description == "http://127.0.0.1:\(gateway.port!)/\(apiID)/dev")
        #expect(try await fixture.run("plan") == "No changes: API Gateway matches the app's routes.")

        // Tags follow the record: added, changed and removed through the tagging calls.
        try await fixture.run("configure", "--tags", "team=chat,env=dev")
        #expect(try await fixture.run("plan").contains("~ tags none → env=dev,team=chat"))
        try await fixture.run("apply")
        #expect(gateway.currentAPIs.first?.tags == ["team": "chat", "env": "dev"])
        try await fixture.run("configure", "--tags", "team=web")
        #expect(try await fixture.run("plan").contains("~ tags env=dev,team=chat → team=web"))
        try await fixture.run("apply")
        #expect(gateway.currentAPIs.first?.tags == ["team": "web"])
        #expect(try await fixture.client.getTags(fixture.client.apiARN(apiID)) == ["team": "web"])
        #expect(try await fixture.run("plan") == "No changes: API Gateway matches the app's routes.")

        // An additional route, validated, planned, applied and recorded with its AWS ids.
        await #expect(throws: ProvisioningError.self) {
            try await fixture.run("add-route", "--route-key", "$default", "--integration-url", "https://x.example.com/a")
        }
        await #expect(throws: ProvisioningError.self) {
            try await fixture.run("add-route", "--route-key", "billing", "--integration-url", "ftp://x/a")
        }
        try await fixture.run(
            "add-route", "--route-key", "billing", "--integration-url", "https://billing.example.com/ws", "--route-name", "Billing")
        #expect(try await fixture.run("plan").contains("+ billing: integration POST https://billing.example.com/ws"))
        let clicks = try await fixture.run("plan", "--format", "console")
        #expect(
            clicks.contains(
                "Routes → Create route `billing`; integration: HTTP, HTTP proxy integration ON, method POST, URL https://billing.example.com/ws."
            ))
        #expect(
            clicks.contains("for the integration of `billing`: aws apigatewayv2 update-integration --api-id \(apiID)")
                && clicks.hasSuffix("Deploy API → stage 'dev'."))
        #expect(!clicks.contains("$connect"), "only the changes")
        #expect(try await fixture.run("export", "--format", "terraform").contains("https://billing.example.com/ws"))
        try await fixture.run("apply")
        let billing = try #require(try await fixture.model().routes.first { $0.routeKey == "billing" })
        let live = try #require(gateway.currentAPIs.first?.route("billing"))
        #expect(billing.deployed && billing.routeID == live.routeId && billing.integrationID.map { "integrations/\($0)" } == live.target)
        #expect(billing.name == "Billing")

        try await fixture.run("remove-route", "--route-key", "billing")
        #expect(try await fixture.run("plan").contains("- billing: delete route"))
        #expect(try await fixture.run("plan", "--format", "console").contains("- Routes → `billing` → Delete."))
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(try await fixture.run("plan", "--format", "json").utf8)) as? [String: Any])
        #expect(
            json["deletions"] as? Int == 1 && (json["changes"] as? [[String: Any]])?.first?["kind"] as? String == "delete-route", "\(json)")
        // A plan that deletes asks first: unanswered, nothing changes.
        await #expect(throws: GatewayCommandError.self) { try await fixture.run("apply") }
        #expect(gateway.currentAPIs.first?.route("billing") != nil, "not confirmed, not deleted")
        let deleted = try await fixture.run("apply", "--yes")
        #expect(deleted.contains("done: - billing: delete route"), "each step as it happens: \(deleted)")
        #expect(gateway.currentAPIs.first?.route("billing") == nil)
        #expect(gateway.currentAPIs.count == 1)
        try await fixture.shutdown()
        try await gateway.stop()
    }

    /// One planner behind every door: the CloudFormation export describes exactly what apply
    /// created (routes, integration URIs, request parameters, two-way responses, stage).
    @Test func exportDescribesWhatApplyCreates() async throws {
        let gateway = try await localGateway()
        let fixture = try await Fixture(
            endpoint: "http://127.0.0.1:\(gateway.port!)",
            provisioning: ProvisioningOptions(twoWayRouteKeys: [RouteKey("notifications")]))
        try await configure(fixture)
        try await fixture.run("add-route", "--route-key", "billing", "--integration-url", "https://billing.example.com/ws")
        try await fixture.run("apply")
        let api = try #require(gateway.currentAPIs.first)
        let template = try #require(
            try JSONSerialization.jsonObject(with: Data(try await fixture.run("export", "--format", "json").utf8)) as? [String: Any])
        let resources = try #require(template["Resources"] as? [String: [String: Any]])
        func properties(_ type: String) -> [[String: Any]] {
            resources.values.filter { $0["Type"] as? String == type }.compactMap { $0["Properties"] as? [String: Any] }
        }
        let exportedRoutes = properties("AWS::ApiGatewayV2::Route")
        #expect(Set(exportedRoutes.compactMap { $0["RouteKey"] as? String }) == Set(api.routes.values.map(\.routeKey)))
        let exportedURIs = Set(properties("AWS::ApiGatewayV2::Integration").compactMap { $0["IntegrationUri"] as? String })
        #expect(exportedURIs == Set(api.integrations.values.compactMap(\.integrationUri)))
        for integration in properties("AWS::ApiGatewayV2::Integration") {
            let applied = try #require(api.integrations.values.first { $0.integrationUri == integration["IntegrationUri"] as? String })
            let exported = try #require(integration["RequestParameters"] as? [String: Any])
            #expect(Set(exported.keys) == Set(applied.requestParameters.keys))
            #expect(
                exported["integration.request.header.connectionId"] as? String
                    == applied.requestParameters["integration.request.header.connectionId"])
            #expect(
                (exported["integration.request.header.X-Ws-Gateway-Secret"] as? [String: String])?["Fn::Sub"] == "'${GatewaySecret}'",
                "the secret is a parameter in the template, the value in API Gateway")
        }
        #expect(properties("AWS::ApiGatewayV2::RouteResponse").count == api.routeResponses.values.filter { !$0.isEmpty }.count)
        #expect(api.routeResponses.values.filter { !$0.isEmpty }.count == 1)
        #expect(properties("AWS::ApiGatewayV2::Stage").first?["StageName"] as? String == api.stages.keys.first)
        try await fixture.shutdown()
        try await gateway.stop()
    }

    /// An apply that stops after any step leaves the record `failed` with the error and the API id
    /// it created; the next apply resumes from the record to the same final state, one API.
    @Test func failedApplyIsRecordedAndResumesAfterEveryStep() async throws {
        struct Interrupted: Error, CustomStringConvertible { var description: String { "interrupted by the test" } }
        var failAt = 1
        var total = Int.max
        while failAt < total {
            let gateway = try await localGateway()
            let fixture = try await Fixture(endpoint: "http://127.0.0.1:\(gateway.port!)")
            try await configure(fixture)
            try await fixture.run("add-route", "--route-key", "billing", "--integration-url", "https://billing.example.com/ws")
            total = try await fixture.provisioner.plan("chat").steps.count
            let done = Atomic<Int>(0)
            let stopAt = failAt
            await #expect(throws: Interrupted.self) {
                try await fixture.provisioner.apply("chat") { _ in
                    if done.wrappingAdd(1, ordering: .relaxed).newValue == stopAt { throw Interrupted() }
                }
            }
            let failed = try await fixture.model()
            #expect(
                failed.status == .failed && failed.lastError == "interrupted by the test" && failed.claimToken == nil,
                "after step \(failAt)")
            #expect(failed.apiID == gateway.currentAPIs.first?.apiId, "the created API is recorded after step \(failAt)")

            let resumed = try await fixture.provisioner.apply("chat")
            #expect(!resumed.plan.steps.contains { $0.action == .createAPI }, "after step \(failAt)")
            #expect(gateway.currentAPIs.count == 1)
            let api = try #require(gateway.currentAPIs.first)
            #expect(api.routes.values.map(\.routeKey).sorted() == ["$connect", "$default", "$disconnect", "billing", "notifications"])
            #expect(api.integrations.count == 5, "no duplicate integrations after step \(failAt)")
            let model = try await fixture.model()
            #expect(model.status == .applied && model.deploymentID == api.stages["dev"]?.deploymentId)
            #expect(model.routes.first?.deployed == true && model.routes.first?.routeID == api.route("billing")?.routeId)
            #expect(try await fixture.provisioner.plan("chat").isEmpty)
            try await fixture.shutdown()
            try await gateway.stop()
            failAt += 1
        }
        #expect(failAt > 5, "every step was interrupted once")
    }

    @Test func oneApplyAtATime() async throws {
        let gateway = try await localGateway()
        let fixture = try await Fixture(endpoint: "http://127.0.0.1:\(gateway.port!)")
        try await configure(fixture)

        // A second apply while the first holds the claim is refused, and creates nothing.
        let (reachedStep, continueFirst) = (AsyncStream<Void>.makeStream(), AsyncStream<Void>.makeStream())
        let first = Task {
            try await fixture.provisioner.apply("chat") { step in
                guard step.action == .createAPI else { return }
                reachedStep.continuation.yield()
                for await _ in continueFirst.stream { break }
            }
        }
        for await _ in reachedStep.stream { break }
        let refused = await #expect(throws: ProvisioningError.self) { try await fixture.provisioner.apply("chat") }
        #expect(refused?.status == .conflict && refused?.reason.contains("is being applied by another process") == true)
        #expect(try await fixture.model().status == .applying)
        continueFirst.continuation.yield()
        _ = try await first.value
        let afterFirst = try await fixture.model()
        #expect(gateway.currentAPIs.count == 1 && afterFirst.status == .applied)

        // Racing applies on a fresh record: however they interleave, one API.
        try await fixture.run("configure", "--gateway", "race", "--public-url", "https://backend.example.com")
        func attempt() async -> Result<Planner.Applied, any Error> {
            do { return .success(try await fixture.provisioner.apply("race")) } catch { return .failure(error) }
        }
        async let a = attempt()
        async let b = attempt()
        let results = await [a, b]
        #expect(results.contains { if case .success = $0 { true } else { false } })
        for case .failure(let error) in results { #expect((error as? ProvisioningError)?.status == .conflict) }
        #expect(gateway.currentAPIs.filter { $0.name == "race" }.count == 1)

        // A claim left by a process that died is taken over once it is older than the timeout.
        let stale = try await fixture.model()
        stale.claimToken = "dead-process"
        stale.claimedAt = 0
        try await stale.save(on: fixture.app.db)
        try await fixture.provisioner.apply("chat")
        #expect(try await fixture.model().claimToken == nil)

        // An apply whose claim went stale while it was stuck, and was taken over, stops at its
        // next step instead of racing the one that took over.
        try await fixture.run("configure", "--gateway", "stuck", "--public-url", "https://backend.example.com")
        let (stuck, release) = (AsyncStream<Void>.makeStream(), AsyncStream<Void>.makeStream())
        let slow = Task {
            try await fixture.provisioner.apply("stuck") { step in
                guard step.action == .createAPI else { return }
                stuck.continuation.yield()
                for await _ in release.stream { break }
            }
        }
        for await _ in stuck.stream { break }
        let aged = try await fixture.provisioner.model(named: "stuck")
        aged.claimedAt = 0
        try await aged.save(on: fixture.app.db)
        try await fixture.provisioner.apply("stuck")
        release.continuation.yield()
        let stopped = await #expect(throws: ProvisioningError.self) { try await slow.value }
        #expect(stopped?.reason.contains("took over this one's claim") == true)
        #expect(gateway.currentAPIs.filter { $0.name == "stuck" }.count == 1)
        let finished = try await fixture.provisioner.model(named: "stuck")
        #expect(finished.status == .applied && finished.claimToken == nil, "the stopped apply does not overwrite the outcome")
        try await fixture.shutdown()
        try await gateway.stop()
    }

    @Test func importReadsAnExistingAPIIntoTheRecords() async throws {
        let gateway = try await localGateway()
        let first = try await Fixture(endpoint: "http://127.0.0.1:\(gateway.port!)")
        try await first.run(
            "configure", "--public-url", "https://backend.example.com", "--stage", "dev", "--description", "chat API", "--tags", "team=chat"
        )
        try await first.run("add-route", "--route-key", "billing", "--integration-url", "https://billing.example.com/ws")
        try await first.run("apply")
        let apiID = try #require(try await first.model().apiID)
        try await first.shutdown()

        let second = try await Fixture(endpoint: "http://127.0.0.1:\(gateway.port!)")
        // The API was registered directly first (as the example app does): import fills in that record.
        try await second.ws.registerGateway(
            GatewayRecord(apiID: try APIID(apiID), stage: "dev", region: "us-east-1", defaultChannel: ChannelName("lobby")))
        await #expect(throws: ProvisioningError.self, "a registered record has no settings to plan from") {
            try await second.run("plan", "--gateway", apiID)
        }
        await #expect(throws: AWSError.self) { try await second.run("import", "--api-id", "nosuchapi1") }
        let imported = try await second.run("import", "--api-id", apiID)  // --gateway chat names the record
        #expect(imported == "Imported API \(apiID) as gateway 'chat': stage 'dev', https://backend.example.com, 1 additional route(s).")
        let model = try await second.model()
        #expect(
            model.apiID == apiID && model.status == .applied && model.gatewayDescription == "chat API" && model.tags == ["team": "chat"])
        #expect(model.routes.map(\.routeKey) == ["billing"] && model.routes.first?.integrationURL == "https://billing.example.com/ws")
        #expect(model.routes.first?.deployed == true && model.routes.first?.routeID != nil)
        let records = try await GatewayModel.query(on: second.app.db).count()
        #expect(model.defaultChannel == "lobby" && records == 1, "one record, kept")
        #expect(try await second.run("plan") == "No changes: API Gateway matches the app's routes.")
        #expect(try await second.ws.directory.gateway(try APIID(apiID)) != nil, "an imported API is served")
        try await second.shutdown()
        try await gateway.stop()
    }

    @Test func rotateSecretUpdatesEveryIntegrationAfterADryRun() async throws {
        let gateway = try await localGateway()
        let old = "old-secret-0123456789", new = "new-secret-0123456789"
        let before = try await Fixture(endpoint: "http://127.0.0.1:\(gateway.port!)", secrets: [old])
        try await configure(before)
        try await before.run("add-route", "--route-key", "billing", "--integration-url", "https://billing.example.com/ws")
        try await before.run("apply")
        let apiID = try #require(try await before.model().apiID)
        let deployed = try await before.model().deploymentID
        try await before.app.asyncShutdown()

        // The app now accepts both, the new one first.
        let after = try await Fixture(endpoint: before.endpoint, database: before.database, secrets: [new, old])
        func secrets() async throws -> Set<String> {
            Set(
                try await after.client.getIntegrations(apiID).compactMap {
                    $0.requestParameters?["integration.request.header.X-Ws-Gateway-Secret"]
                })
        }
        let dryRun = try await after.run("rotate-secret", "--dry-run")
        #expect(dryRun.contains("5 integration(s).") && dryRun.contains("https://billing.example.com/ws"))
        #expect(try await secrets() == ["'\(old)'"], "a dry run changes nothing")
        let refused = await #expect(throws: ProvisioningError.self) {
            try await after.run("rotate-secret", "--secret", "unknown-secret-0123456789")
        }
        #expect(refused?.reason.contains("does not accept this secret") == true)

        #expect(try await after.run("rotate-secret").hasSuffix("Rotated and deployed."))
        #expect(try await secrets() == ["'\(new)'"], "every integration, the additional route's too")
        let model = try await after.model()
        #expect(model.deploymentID != deployed && model.deploymentID == gateway.currentAPIs.first?.stages["dev"]?.deploymentId)
        #expect(try await after.run("rotate-secret").hasPrefix("No changes"))
        #expect(try await after.run("plan") == "No changes: API Gateway matches the app's routes.")
        try await after.shutdown()
        try await gateway.stop()
    }

    /// The custom-domain step on the local gateway, which serves the mapped stage at the domain:
    /// a client connecting to `ws://ws.example.com` (the domain as Host, no DNS) reaches the app.
    @Test func domainStepOnTheLocalGatewayServesTheDomain() async throws {
        let gateway = try await localGateway()
        let fixture = try await Fixture(endpoint: "http://127.0.0.1:\(gateway.port!)")
        try await fixture.run(
            "configure", "--public-url", "http://127.0.0.1:9", "--stage", "dev", "--domain", "ws.example.com", "--certificate-arn",
            "arn:aws:acm:us-east-1:123456789012:certificate/abc-123", "--hosted-zone-id", "Z0123456789ABC")
        // The public URL is loopback with nothing listening.
        let notYet = await #expect(throws: ProvisioningError.self) { try await fixture.run("domain") }
        #expect(notYet?.status == .conflict, "no API to map yet")
        try await fixture.run("apply")
        #expect(try await fixture.run("domain", "--dry-run").contains("+ create domain name ws.example.com"))
        #expect(gateway.currentDomainNames.isEmpty, "a dry run changes nothing")
        let attached = try await fixture.run("domain")
        let model = try await fixture.model()
        let domain = try #require(gateway.currentDomainNames.first)
        #expect(model.domainTarget == domain.apiGatewayDomainName && model.domainTargetZoneID == domain.hostedZoneId)
        #expect(model.apiMappingID == domain.mappings.values.first?.apiMappingId && domain.mappings.values.first?.stage == "dev")
        #expect(
            attached.contains("DNS: point ws.example.com at \(domain.apiGatewayDomainName)")
                && attached.contains("your zone Z0123456789ABC"))
        #expect(try await fixture.run("domain").hasPrefix("No changes"))

        // A new certificate is an update of the same domain, the mapping stays.
        try await fixture.run("configure", "--certificate-arn", "arn:aws:acm:us-east-1:123456789012:certificate/def-456")
        #expect(try await fixture.run("domain").contains("~ ws.example.com: certificate →"))
        #expect(gateway.currentDomainNames.first?.certificateArn == "arn:aws:acm:us-east-1:123456789012:certificate/def-456")
        #expect(gateway.currentDomainNames.first?.mappings.count == 1)

        // The domain serves the stage: the handshake reaches $connect (nothing listens at the
        // backend URL, so API Gateway's answer is 502, not the 403 of an unmapped domain).
        let unreachable = await #expect(throws: (any Error).self) {
            try await TestClient.connect("ws://ws.example.com/", through: gateway.port!)
        }
        #expect("\(unreachable.map { "\($0)" } ?? "")".contains("502"))
        let unmapped = await #expect(throws: (any Error).self) {
            try await TestClient.connect("ws://other.example.com/", through: gateway.port!)
        }
        #expect("\(unmapped.map { "\($0)" } ?? "")".contains("403"))
        try await fixture.shutdown()
        try await gateway.stop()
    }

    /// moto has no deployments: an apply there fails at its last step, which the record keeps,
    /// and applying again resumes with that step alone. The custom-domain step runs on moto.
    @Test func applyResumeAndDomainAgainstMoto() async throws {
        guard let moto = try await MotoServer.start() else { return }
        defer { moto.stop() }
        let fixture = try await Fixture(endpoint: moto.url)
        try await fixture.run(
            "configure", "--public-url", "https://backend.example.com", "--stage", "dev", "--domain", "ws.example.com", "--certificate-arn",
            "arn:aws:acm:us-east-1:123456789012:certificate/abc-123")
        await #expect(throws: AWSError.self) { try await fixture.run("apply") }
        let failed = try await fixture.model()
        let apiID = try #require(failed.apiID, "the API moto created is recorded")
        #expect(failed.status == .failed && failed.lastError?.isEmpty == false)
        #expect(try await fixture.run("plan").hasPrefix("The last apply failed: "))
        #expect(try await fixture.run("status").contains("last error"))
        let resume = try await fixture.provisioner.plan("chat")
        #expect(resume.steps.map(\.action) == [.deploy], "only the deployment is left: \(resume)")
        try await fixture.run("configure", "--tags", "team=chat")
        await #expect(throws: AWSError.self) { try await fixture.run("apply") }
        #expect(try await fixture.client.getApis().count == 1, "resuming created no second API")
        #expect(try await fixture.client.getApi(apiID).tags == ["team": "chat"], "moto took the tags before the deployment failed")
        #expect(try await fixture.client.getRoutes(apiID).count == 4)

        let dryRun = try await fixture.run("domain", "--dry-run")
        #expect(
            dryRun.contains("+ create domain name ws.example.com") && dryRun.contains("+ map ws.example.com to API \(apiID), stage 'dev'"))
        let attached = try await fixture.run("domain")
        #expect(attached.contains("Clients connect to wss://ws.example.com"))
        let model = try await fixture.model()
        let mappings = try await fixture.client.getApiMappings("ws.example.com")
        #expect(model.apiMappingID != nil && mappings.map(\.apiMappingId) == [model.apiMappingID])
        #expect(model.status == .failed && model.claimToken == nil, "the domain step leaves the apply's outcome as it was")
        #expect(try await fixture.run("domain").hasPrefix("No changes"))

        // A new certificate is planned as an update; moto cannot update domain names (a documented gap).
        try await fixture.run("configure", "--certificate-arn", "arn:aws:acm:us-east-1:123456789012:certificate/def-456")
        #expect(
            try await fixture.run("domain", "--dry-run").contains(
                "~ ws.example.com: certificate → arn:aws:acm:us-east-1:123456789012:certificate/def-456"))
        await #expect(throws: AWSError.self) { try await fixture.run("domain") }

        // The client's clean-up calls: the mapping, then the domain.
        try await fixture.client.deleteApiMapping("ws.example.com", try #require(model.apiMappingID))
        #expect(try await fixture.client.getApiMappings("ws.example.com").isEmpty)
        try await fixture.client.deleteDomainName("ws.example.com")
        let gone = await #expect(throws: AWSError.self) { try await fixture.client.getDomainName("ws.example.com") }
        #expect(gone?.code == .notFound)
        try await fixture.shutdown()
    }
}

/// The command line as a person types it, parsed by Vapor: option names, `--help`, `--dry-run`.
@Test func gatewayCommandLineThroughVapor() async throws {
    let gateway = LocalGateway(configuration: LocalGatewayConfiguration(port: 0))
    try await gateway.start()
    let fixture = try await GatewayRecordsTests.Fixture(endpoint: "http://127.0.0.1:\(gateway.port!)")
    let commands = AsyncCommands(commands: [
        "gateway": GatewayCommands(credentials: StaticCredentialProvider(LocalGatewayConfiguration.developmentCredential)),
        "sessions": SessionsCommands(),
    ]).group()
    func run(_ arguments: String...) async throws -> String {
        let console = RecordingConsole()
        var context = CommandContext(console: console, input: CommandInput(arguments: ["App"] + arguments))
        context.application = fixture.app
        try await console.run(commands, with: context)
        return console.text
    }
    let endpoint = "http://127.0.0.1:\(gateway.port!)"
    // One command per action, each with its own options and --help.
    let help = try await run("gateway", "--help")
    let actions = ["configure", "status", "plan", "apply", "domain", "import", "export", "rotate-secret", "add-route", "remove-route"]
    for action in actions { #expect(help.contains(action), "gateway --help names \(action)") }
    let options: [String: [String]] = [
        "configure": ["--public-url", "--certificate-arn", "--tags"], "status": ["--gateway"], "plan": ["--format", "--endpoint"],
        "apply": ["--endpoint"], "domain": ["--dry-run", "--endpoint"], "import": ["--api-id", "--public-url", "--endpoint"],
        "export": ["--format"], "rotate-secret": ["--secret", "--dry-run", "--endpoint"],
        "add-route": ["--route-key", "--integration-url"],
        "remove-route": ["--route-key"],
    ]
    for action in actions {
        let own = try await run("gateway", action, "--help")
        for option in options[action]! { #expect(own.contains(option), "gateway \(action) --help names \(option)") }
    }
    #expect(!(try await run("gateway", "status", "--help")).contains("--public-url"), "only its own options")
    for action in ["clear", "sweep"] { #expect(try await run("sessions", action, "--help").contains("Usage:")) }
    #expect(
        try await run(
            "gateway", "configure", "--gateway", "chat", "--public-url", "https://backend.example.com", "--stage", "dev",
            "--tags", "team=chat", "--description", "Chat API"
        ).contains("Gateway 'chat' saved (draft)"))
    #expect(try await run("gateway", "plan", "--endpoint", endpoint).contains("+ create WebSocket API 'chat'"))
    #expect(try await run("gateway", "apply", "-g", "chat", "--endpoint", endpoint).contains("Applied: API"))
    let api = try #require(gateway.currentAPIs.first)
    #expect(api.tags == ["team": "chat"] && api.description == "Chat API")
    let status = try await run("gateway", "status")
    #expect(status.contains("Gateway 'chat': applied") && status.contains("API          \(api.apiId) at ws://"))
    #expect(try await run("gateway", "rotate-secret", "--dry-run", "--endpoint", endpoint).hasPrefix("No changes"))
    #expect(try await run("gateway", "export", "--format", "json").contains(#""ProtocolType" : "WEBSOCKET""#))
    #expect(try await run("sessions", "clear", "--older-than-days", "1") == "Deleted 0 disconnected session(s).\n")
    await #expect(throws: (any Error).self, "an unknown option is refused") { try await run("gateway", "plan", "--colour", "blue") }
    try await fixture.shutdown()
    try await gateway.stop()
}

/// The `$default` controller the provisioning fixture registers: routes, not behaviour, are planned.
struct DefaultRoute: WebSocketController {
    let routeKey = RouteKey.default
    func handlers(_ handlers: inout HandlerRegistry) { handlers.onRaw("default") { _, _ in } }
}

/// A custom route served at its own path, as an app's `notifications` controller is.
struct NotificationsRoute: WebSocketController {
    let routeKey: RouteKey = "notifications"
    func handlers(_ handlers: inout HandlerRegistry) { handlers.onRaw("default") { _, _ in } }
}
