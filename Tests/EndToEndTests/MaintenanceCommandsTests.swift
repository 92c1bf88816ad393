import APIGatewayLocal
import Foundation
import PeerSupport
import Testing

/// The framework's commands without Vapor (swift-argument-parser, `GatewayCLI`) and with it (the
/// Vapor door's) are one implementation: run as processes on one database, what one writes the
/// other lists, line for line, and both refuse a misuse with a reason and status 1.
@Suite struct MaintenanceCommandsTests {
    func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

    @Test func bothDoorsCommandsShareTheirWorkAndTheirWords() async throws {
        guard let hummingbird = ChatCommandLineTests.requireExecutable(#function, .hummingbird),
            let vapor = ChatCommandLineTests.requireExecutable(#function, .vapor)
        else { return }
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let environment = ["CHAT_DATABASE": database.path, "CHAT_LOCAL_GATEWAY": "off"]
        func run(_ executable: URL, _ arguments: String...) async throws -> PythonPeer.Output {
            try await PythonPeer.run(executable, arguments, input: Data(), environment: environment)
        }

        let set = try await run(hummingbird, "channels", "set-rule", "ops", "--access", "permissions", "--permissions", "ops.read+ops.write,admin")
        #expect(set.status == 0, "\(text(set.stderr))")
        #expect(text(set.stdout).hasPrefix("ops: "), "\(text(set.stdout))")
        let fromHummingbird = try await run(hummingbird, "channels", "rules")
        let fromVapor = try await run(vapor, "channels", "rules")
        #expect(fromHummingbird.status == 0 && fromVapor.status == 0, "\(text(fromHummingbird.stderr)) \(text(fromVapor.stderr))")
        #expect(text(fromHummingbird.stdout).contains("ops: "), "\(text(fromHummingbird.stdout))")
        #expect(text(fromHummingbird.stdout) == text(fromVapor.stdout), "one implementation, one output")

        let removed = try await run(vapor, "channels", "remove-rule", "ops")
        #expect(text(removed.stdout) == "Removed the rule for ops.\n", "\(text(removed.stdout))")
        #expect(!text(try await run(hummingbird, "channels", "rules").stdout).contains("ops: "), "what Vapor removed, Hummingbird no longer lists")

        for executable in [hummingbird, vapor] {
            let bad = try await run(executable, "channels", "set-rule", "bad name!", "--access", "staff")
            #expect(bad.status == 1 && text(bad.stderr).contains("invalid channel name"), "\(executable.lastPathComponent): \(text(bad.stderr))")
            let counts = try await run(executable, "channels", "counts")
            #expect(counts.status == 1 && text(counts.stderr).contains("channels counts needs --api"), "\(text(counts.stderr))")
            let sweep = try await run(executable, "sessions", "sweep")
            #expect(sweep.status == 0 && text(sweep.stdout) == "Marked 0 expired session(s) disconnected.\n", "\(text(sweep.stdout))")
        }
        let cleanup = try await run(hummingbird, "cleanup")
        #expect(text(cleanup.stdout).contains("expired web sessions: 0") && text(cleanup.stdout).contains("stream history: 0"))
    }

    /// `gateway` and `publish` from either example's binary, on one database and one local
    /// gateway: what one plans, the other applies and then sees as no change; their documents and
    /// refusals are the same text. The Hummingbird example's commands see its routes (they were
    /// once registered only where the router is built, so its `gateway apply` would have deleted
    /// every route), and a removal is applied only when confirmed.
    @Test func bothDoorsGatewayAndPublishCommands() async throws {
        guard let hummingbird = ChatCommandLineTests.requireExecutable(#function, .hummingbird),
            let vapor = ChatCommandLineTests.requireExecutable(#function, .vapor)
        else { return }
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let gateway = LocalGateway(configuration: LocalGatewayConfiguration(port: 0))
        try await gateway.start()
        let endpoint = "http://127.0.0.1:\(gateway.port!)"
        let credential = LocalGatewayConfiguration.developmentCredential
        // Both examples as they start by default (the Vapor one registers no fixed API then).
        let environment = [
            "CHAT_DATABASE": database.path, "AWS_ACCESS_KEY_ID": credential.accessKeyID,
            "AWS_SECRET_ACCESS_KEY": credential.secretAccessKey,
        ]
        func run(_ executable: URL, _ arguments: String...) async throws -> PythonPeer.Output {
            try await PythonPeer.run(executable, arguments, input: Data(), environment: environment)
        }
        func both(_ arguments: String...) async throws -> (hummingbird: PythonPeer.Output, vapor: PythonPeer.Output) {
            (
                try await PythonPeer.run(hummingbird, arguments, input: Data(), environment: environment),
                try await PythonPeer.run(vapor, arguments, input: Data(), environment: environment)
            )
        }

        let configured = try await run(
            hummingbird, "gateway", "configure", "--gateway", "chat", "--public-url", "http://127.0.0.1:9", "--stage", "dev")
        #expect(text(configured.stdout).hasPrefix("Gateway 'chat' saved (draft)"), "\(text(configured.stdout)) \(text(configured.stderr))")
        let plans = try await both("gateway", "plan", "--endpoint", endpoint)
        #expect(text(plans.hummingbird.stdout).contains("+ create WebSocket API 'chat'"), "\(text(plans.hummingbird.stderr))")
        for path in ["/ws/connect", "/ws/disconnect", "/ws/default", "/websockets/notifications/"] {
            #expect(text(plans.hummingbird.stdout).contains("integration POST http://127.0.0.1:9\(path)"), "\(path) is planned")
        }
        #expect(text(plans.hummingbird.stdout) == text(plans.vapor.stdout), "one planner, one plan")

        let applied = try await run(hummingbird, "gateway", "apply", "--endpoint", endpoint)
        #expect(applied.status == 0 && text(applied.stdout).contains("Applied: API"), "\(text(applied.stdout)) \(text(applied.stderr))")
        let api = try #require(gateway.currentAPIs.first)
        #expect(api.name == "chat" && gateway.currentAPIs.count == 1)
        let unchanged = try await both("gateway", "plan", "--endpoint", endpoint)
        #expect(text(unchanged.vapor.stdout) == "No changes: API Gateway matches the app's routes.\n", "\(text(unchanged.vapor.stdout))")
        #expect(text(unchanged.hummingbird.stdout) == text(unchanged.vapor.stdout))
        let statuses = try await both("gateway", "status")
        #expect(text(statuses.hummingbird.stdout).contains("API          \(api.apiId) at ws://"), "\(text(statuses.hummingbird.stdout))")
        #expect(text(statuses.hummingbird.stdout) == text(statuses.vapor.stdout))
        for format in ["yaml", "terraform"] {
            let exports = try await both("gateway", "export", "--format", format)
            #expect(exports.hummingbird.status == 0 && !exports.hummingbird.stdout.isEmpty, "\(text(exports.hummingbird.stderr))")
            #expect(exports.hummingbird.stdout == exports.vapor.stdout, "\(format): one document")
        }

        // A route added through Vapor is planned and applied through Hummingbird; its removal
        // deletes a route, so it waits for a 'yes' (a closed input is no).
        #expect(try await run(vapor, "gateway", "add-route", "--route-key", "ping", "--integration-url", "http://127.0.0.1:9/ping").status == 0)
        #expect(text(try await run(hummingbird, "gateway", "apply", "--endpoint", endpoint).stdout).contains("done: + ping: route"))
        #expect(try await run(hummingbird, "gateway", "remove-route", "--route-key", "ping").status == 0)
        let refused = try await both("gateway", "apply", "--endpoint", endpoint)
        for output in [refused.hummingbird, refused.vapor] {
            #expect(output.status == 1 && text(output.stderr).contains("was not confirmed"), "\(text(output.stderr))")
        }
        #expect(gateway.routeKeys(api.apiId).contains("ping"), "nothing deleted without a yes")
        let confirmed = try await run(hummingbird, "gateway", "apply", "--yes", "--endpoint", endpoint)
        #expect(confirmed.status == 0 && text(confirmed.stdout).contains("done: - ping: delete route"), "\(text(confirmed.stdout))")
        #expect(!gateway.routeKeys(api.apiId).contains("ping"))

        let message = #"{"type":"message","from":"ops","text":"deploy at 5"}"#
        let published = try await run(hummingbird, "publish", "--channel", "lobby", "--json", message, "--idempotency-key", "deploy-1")
        #expect(text(published.stdout).hasPrefix("Published channel:lobby at offset 1 "), "\(text(published.stdout)) \(text(published.stderr))")
        let again = try await run(vapor, "publish", "--channel", "lobby", "--json", message, "--idempotency-key", "deploy-1")
        #expect(text(again.stdout).hasPrefix("Already published: channel:lobby at offset 1 "), "\(text(again.stdout)) \(text(again.stderr))")
        let notObjects = try await both("publish", "--channel", "lobby", "--json", "[1]")
        #expect(notObjects.hummingbird.status == 1 && text(notObjects.hummingbird.stderr).contains("--json: not a JSON object"))
        #expect(text(notObjects.hummingbird.stderr) == text(notObjects.vapor.stderr), "one refusal")
        try await gateway.stop()
    }
}

extension LocalGateway {
    /// The route keys of API `apiID`, as the gateway holds them.
    fileprivate func routeKeys(_ apiID: String) -> [String] {
        currentAPIs.first { $0.apiId == apiID }?.routes.values.map(\.routeKey) ?? []
    }
}
