import APIGatewayLocal
import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import ChatApp
import Foundation
import HTTPTypes
import NIOCore
import PeerSupport
import Testing
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

/// The chat page, the JavaScript client and the admin, answered in process: who may see what,
/// and that every write needs the CSRF token and the app's own origin.
@Suite struct AdminPagesTests {
    struct Browser {
        let app: Application
        var cookie: String?
        var origin: String? = "http://127.0.0.1:8080"

        func request(_ method: HTTPRequest.Method, _ path: String, form: [(String, String)]? = nil, headers: [(String, String)] = [])
            async throws -> GatewayResponse
        {
            var fields = HTTPFields()
            if let cookie { fields[.cookie] = cookie }
            if let origin, method == .post { fields[.origin] = origin }
            if form != nil { fields[.contentType] = "application/x-www-form-urlencoded" }
            for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
            let body = (form ?? []).map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
                .joined(separator: "&")
            let (route, query) =
                path.contains("?") ? (String(path.split(separator: "?")[0]), String(path.split(separator: "?")[1])) : (path, nil)
            return try await InProcessTransport(app: app).send(
                GatewayRequest(method: method, path: route, query: query, headerFields: fields, body: ByteBuffer(string: body)))
        }

        /// Logged in as `name`.
        static func loggedIn(_ app: Application, _ name: String) async throws -> Browser {
            let response = try await Browser(app: app).request(
                .post, "/login", form: [("name", name), ("password", ChatDemo.defaultPassword)])
            let setCookie = try #require(response.headerFields[.setCookie], "login as \(name): \(response.status)")
            return Browser(app: app, cookie: String(setCookie.split(separator: ";")[0]))
        }

        /// The CSRF token of the admin page at `path`.
        func csrf(_ path: String = "/admin/websockets/identity") async throws -> String {
            let page = String(buffer: try await request(.get, path).body)
            let marker = #"name="csrf" value=""#
            let start = try #require(page.range(of: marker), "no CSRF field on \(path)").upperBound
            return String(page[start...].prefix { $0 != "\"" })
        }
    }

    func withChat(_ body: (Application, WebSocketGateway, RecordingPoster) async throws -> Void) async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("admin-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) } }
        let app = try await Application.make(.testing)
        let poster = RecordingPoster()
        do {
            let gateway = try await configureChat(app, settings: ChatSettings(databasePath: database), poster: poster)
            try await body(app, gateway, poster)
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    @Test func theChatPageSignsInThenRendersTheConnectionSettings() async throws {
        try await withChat { app, gateway, _ in
            let signedOut = try await Browser(app: app).request(.get, "/")
            #expect(signedOut.status == .ok && signedOut.bodyText.contains(#"data-testid="login-name""#))
            let ada = try await Browser.loggedIn(app, "ada")
            #expect(try await ada.request(.get, "/").status == .serviceUnavailable, "no WebSocket URL before the API is applied")
            gateway.clientSettings = ClientSettings(url: "ws://127.0.0.1:8081/abc123defg/local</script>", channels: ["lobby"])
            let page = try await ada.request(.get, "/").bodyText
            #expect(page.contains(#"<script type="application/json" id="apigw-settings">"#))
            #expect(
                page.contains(#""url":"ws://127.0.0.1:8081/abc123defg/local\u003c/script\u003e""#), "the settings cannot close the script")
            #expect(page.contains(#"data-testid="connection-status""#) && page.contains(#"data-testid="message-input""#))
            let script = try await Browser(app: app).request(.get, "/apigw-websockets.js")
            #expect(script.status == .ok && script.headerFields[.contentType]?.hasPrefix("text/javascript") == true)
            #expect(script.bodyText.contains("export class GatewaySocket"))
        }
    }

    @Test func theAdminIsForAdministratorsOnly() async throws {
        try await withChat { app, _, _ in
            #expect(try await Browser(app: app).request(.get, "/admin/websockets").status == .unauthorized)
            #expect(try await Browser.loggedIn(app, "bob").request(.get, "/admin/websockets").status == .forbidden)
            let admin = try await Browser.loggedIn(app, "admin")
            for page in ["", "/sessions", "/send", "/identity", "/gateways/new"] {
                let response = try await admin.request(.get, "/admin/websockets" + page)
                #expect(response.status == .ok, "\(page): \(response.status)")
                #expect(response.headerFields[HTTPField.Name("X-Frame-Options")!] == "DENY")
            }
        }
    }

    @Test func everyWriteNeedsTheCSRFTokenAndTheAppsOrigin() async throws {
        try await withChat { app, gateway, _ in
            var admin = try await Browser.loggedIn(app, "admin")
            let token = try await admin.csrf()
            let rule = [("channel", "vip"), ("access", "admin")]
            #expect(try await admin.request(.post, "/admin/websockets/rules", form: rule).status == .forbidden, "no token")
            #expect(
                try await admin.request(
                    .post, "/admin/websockets/rules", form: rule + [("csrf", (token.first == "0" ? "1" : "0") + token.dropFirst())]
                ).status
                    == .forbidden)
            #expect(
                try await admin.request(
                    .post, "/admin/websockets/rules", form: rule + [("csrf", token)], headers: [("Sec-Fetch-Site", "cross-site")]
                )
                .status == .forbidden)
            admin.origin = "https://evil.example"
            #expect(try await admin.request(.post, "/admin/websockets/rules", form: rule + [("csrf", token)]).status == .forbidden)
            #expect(try await gateway.dispatcher.channels.rules?.channelRule(for: ChannelName("vip")) == nil, "nothing was written")
            admin.origin = "http://127.0.0.1:8080"
            let saved = try await admin.request(.post, "/admin/websockets/rules", form: rule + [("csrf", token)])
            #expect(saved.status == .ok && saved.bodyText.contains("vip: admin"))
            #expect(try await gateway.dispatcher.channels.rules?.channelRule(for: ChannelName("vip"))?.access == .admin)
            // Another login's token is not this one's.
            let other = try await Browser.loggedIn(app, "admin")
            let otherToken = try await other.csrf()
            #expect(otherToken != token)
            #expect(
                try await other.request(.post, "/admin/websockets/rules/remove", form: [("channel", "vip"), ("csrf", token)]).status
                    == .forbidden)
            #expect(
                try await other.request(.post, "/admin/websockets/rules/remove", form: [("channel", "vip"), ("csrf", otherToken)]).status
                    == .ok)
        }
    }

    @Test func theAdminSendsClosesRevokesAndExports() async throws {
        try await withChat { app, gateway, poster in
            let fake = try FakeAPIGateway(app: app, apiID: APIID("chatlocal"), stage: "local", secret: "local-development-secret")
            var connections: [FakeConnection] = []
            for name in ["ada", "bob"] {
                let login = try await Browser.loggedIn(app, name)
                var headers = HTTPFields()
                headers[.cookie] = login.cookie
                headers[.origin] = "http://127.0.0.1:8080"
                connections.append(try await fake.connect(query: ["channel": "lobby"], headers: headers))
            }
            let admin = try await Browser.loggedIn(app, "admin")
            let token = try await admin.csrf("/admin/websockets/send")
            // A channel's messages go into its stream, as the app's do: a JSON object, with its position.
            let plain = try await admin.request(
                .post, "/admin/websockets/send",
                form: [("audience", "channel"), ("target", "lobby"), ("body", "hello lobby"), ("csrf", token)])
            #expect(plain.status == .badRequest && plain.bodyText.contains("must be a JSON object"), "\(plain.bodyText.prefix(300))")
            let sent = try await admin.request(
                .post, "/admin/websockets/send",
                form: [("audience", "channel"), ("target", "lobby"), ("body", #"{"type":"message","from":"admin","text":"hello lobby"}"#), ("csrf", token)])
            #expect(sent.status == .ok && sent.bodyText.contains(#"data-testid="send-report""#))
            #expect(sent.bodyText.contains("Published: channel:lobby at offset 1"), "\(sent.bodyText)")
            let heard = poster.posts.filter { $0.text.contains("hello lobby") }
            #expect(Set(heard.map(\.connectionID)) == Set(connections.map(\.id)))
            #expect(heard.allSatisfy { $0.text.hasPrefix(#"{"channel":"lobby","offset":1,"#) }, "\(heard.map(\.text))")
            // The channel's page shows its recent history.
            let lobby = try await admin.request(.get, "/admin/websockets/sessions?channel=lobby")
            #expect(lobby.bodyText.contains(#"data-testid="channel-history""#) && lobby.bodyText.contains("hello lobby"), "\(lobby.bodyText.prefix(400))")
            let bad = try await admin.request(
                .post, "/admin/websockets/send", form: [("audience", "channel"), ("target", "no spaces"), ("body", "x"), ("csrf", token)])
            #expect(bad.status == .badRequest, "an invalid channel is answered with its reason")

            let closed = try await admin.request(
                .post, "/admin/websockets/sessions/close", form: [("connection_id", connections[0].id.rawValue), ("csrf", token)])
            #expect(closed.status == .ok && poster.closed == [connections[0].id])

            let ada = try await Browser.loggedIn(app, "ada")
            let issued = try await ada.request(.post, "/ws/token")
            let raw = try #require(
                (try JSONSerialization.jsonObject(with: Data(issued.bodyText.utf8)) as? [String: Any])?["token"] as? String)
            let identity = try #require(gateway.dispatcher.identity)
            let hash = ConnectionTokens.hash(raw)
            #expect(try await admin.request(.get, "/admin/websockets/identity").bodyText.contains(hash), "the live token is listed")
            #expect(
                try await admin.request(.post, "/admin/websockets/tokens/revoke", form: [("hash", hash), ("csrf", token)]).status == .ok)
            #expect(try await identity.consumeToken(hash: hash, at: Date()) == nil, "a revoked token connects no one")

            let created = try await admin.request(
                .post, "/admin/websockets/gateways",
                form: [("name", "chat"), ("target_base_url", "https://backend.example.com"), ("stage", "production"), ("csrf", token)])
            #expect(created.status == .seeOther)
            let export = try await admin.request(.get, "/admin/websockets/gateways/chat/export?format=terraform")
            #expect(export.headerFields[.contentDisposition]?.contains("attachment; filename=\"chat.tf\"") == true)
            #expect(export.bodyText.contains("aws_apigatewayv2_api"))
            let invalid = try await admin.request(
                .post, "/admin/websockets/gateways", form: [("name", "x"), ("target_base_url", "ftp://nope"), ("csrf", token)])
            #expect(invalid.status == .badRequest && invalid.bodyText.contains(#"data-testid="form-error""#))
        }
    }
}

/// The admin's apply, against the local gateway: the steps stream as they happen.
@Suite struct AdminApplyTests {
    @Test func applyStreamsItsStepsAndTheRotationDryRunsFirst() async throws {
        let local = LocalGateway(configuration: LocalGatewayConfiguration(port: 0))
        try await local.start()
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("apply-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) } }
        let app = try await Application.make(.testing)
        do {
            try await configureChat(
                app, settings: ChatSettings(databasePath: database, gatewayPort: local.port!), poster: RecordingPoster(), registerAPI: false
            )
            let admin = try await AdminPagesTests.Browser.loggedIn(app, "admin")
            let token = try await admin.csrf("/admin/websockets/gateways/new")
            let form = [("name", "chat"), ("target_base_url", "http://127.0.0.1:9"), ("stage", "local"), ("csrf", token)]
            #expect(try await admin.request(.post, "/admin/websockets/gateways", form: form).status == .seeOther)
            let page = String(buffer: try await admin.request(.get, "/admin/websockets/gateways/chat").body)
            #expect(page.contains(#"<li class="add">"#) && page.contains("create WebSocket API"), "the plan as a diff")
            let applied = String(
                buffer: try await admin.request(.post, "/admin/websockets/gateways/chat/apply", form: [("csrf", token)]).body)
            #expect(
                applied.contains(#"data-testid="apply-steps""#) && applied.components(separatedBy: "<li>").count > 4, "one line per step")
            #expect(applied.contains("Applied: API"), "\(applied.suffix(300))")
            #expect(local.currentAPIs.count == 1)
            let after = String(buffer: try await admin.request(.get, "/admin/websockets/gateways/chat").body)
            #expect(after.contains("No changes: API Gateway matches the app&#39;s routes.") || after.contains("No changes"))
            let added = String(
                buffer: try await admin.request(
                    .post, "/admin/websockets/gateways/chat/routes",
                    form: [
                        ("route_name", "legacy"), ("route_key", "legacy"), ("integration_url", "http://127.0.0.1:9/legacy"),
                        ("csrf", token),
                    ]
                ).body)
            #expect(
                added.contains("Added route legacy") && added.contains("legacy: integration POST http://127.0.0.1:9/legacy"),
                "added, and planned")
            let removed = String(
                buffer: try await admin.request(
                    .post, "/admin/websockets/gateways/chat/routes/remove", form: [("route_key", "legacy"), ("csrf", token)]
                ).body)
            #expect(removed.contains("Removed route legacy") && !removed.contains("legacy: integration"), "removed, and no longer planned")
            let dryRun = String(
                buffer: try await admin.request(
                    .post, "/admin/websockets/gateways/chat/rotate-secret", form: [("dry_run", "1"), ("csrf", token)]
                ).body)
            #expect(dryRun.contains("Dry run"), "the rotation shows its plan first")
            try await app.asyncShutdown()
            try await local.stop()
        } catch {
            try? await app.asyncShutdown()
            try? await local.stop()
            throw error
        }
    }

}

extension AdminPagesTests {
    // The admin kept no record of who applied, sent, closed, revoked or changed a rule.
    @Test func everyAdminWriteIsInTheAuditLog() async throws {
        try await withChat { app, gateway, _ in
            let admin = try await Browser.loggedIn(app, "admin")
            let token = try await admin.csrf()
            #expect(try await admin.request(.get, "/admin/websockets/audit").bodyText.contains(#"data-testid="audit-empty""#))
            _ = try await admin.request(.post, "/admin/websockets/rules", form: [("channel", "vip"), ("access", "admin"), ("csrf", token)])
            _ = try await admin.request(
                .post, "/admin/websockets/send", form: [("audience", "everyone"), ("body", "hello"), ("csrf", token)])
            _ = try await admin.request(.post, "/admin/websockets/rules/remove", form: [("channel", "vip"), ("csrf", "wrong")])
            let entries = try await gateway.auditLog.latest()
            #expect(entries.map(\.action) == ["rules/remove", "send", "rules"], "newest first: \(entries)")
            #expect(entries.allSatisfy { $0.actor == "admin" })
            #expect(entries[2].target == "channel=vip" && entries[2].outcome == "ok")
            #expect(entries[1].target == "audience=everyone", "\(entries[1])")
            #expect(entries[0].outcome == "refused 403", "a refused write is recorded too")
            let page = try await admin.request(.get, "/admin/websockets/audit")
            #expect(page.status == .ok && page.bodyText.contains("rules/remove") && page.bodyText.contains("refused 403"))
            // Nobody who is not an administrator writes to it.
            let bob = try await Browser.loggedIn(app, "bob")
            _ = try await bob.request(.post, "/admin/websockets/rules", form: [("channel", "x"), ("access", "admin"), ("csrf", token)])
            #expect(try await gateway.auditLog.latest().count == 3)
        }
    }
}

extension GatewayResponse {
    var bodyText: String { String(buffer: body) }
}
