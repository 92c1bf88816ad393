import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import ChatApp
import Fluent
import Foundation
import HTTPTypes
import NIOCore
import SQLKit
import Synchronization
import Testing
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

/// The chat example's logins as an attacker and a clumsy operator meet them: web sessions that
/// end, a password change that ends them everywhere, nothing stored for strangers, throttled and
/// even-handed password checks, and a store that fails fast.
@Suite struct ChatLoginTests {
    typealias Browser = AdminPagesTests.Browser

    func withChat(
        _ settings: (String) -> ChatSettings = { ChatSettings(databasePath: $0) },
        _ body: (Application, WebSocketGateway, RecordingPoster, String) async throws -> Void
    ) async throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("login-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) } }
        let app = try await Application.make(.testing)
        let poster = RecordingPoster()
        do {
            let gateway = try await configureChat(app, settings: settings(database), poster: poster)
            try await body(app, gateway, poster, database)
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    func fake(_ app: Application) throws -> FakeAPIGateway {
        try FakeAPIGateway(app: app, apiID: APIID("chatlocal"), stage: "local", secret: "local-development-secret")
    }

    func rows(_ table: String, _ app: Application) async throws -> Int {
        let sql = try #require(app.db as? any SQLDatabase)
        return try await sql.raw("SELECT COUNT(*) AS n FROM \(ident: table)").first()?.decode(column: "n", as: Int.self) ?? -1
    }

    func changePassword(of name: String, on app: Application) async throws {
        let user = try #require(try await ChatUser.query(on: app.db).filter(\.$name == name).first())
        user.passwordHash = try Bcrypt.hash("a new password", cost: 4)
        try await user.save(on: app.db)
    }

    // The admin's guard and `POST /ws/token` asked only "logged in?" and "admin?", and stored
    // sessions never expired: after a password change the old session kept the admin, rule edits
    // and new tokens.
    @Test func aPasswordChangeEndsTheWebSessionOnEveryDoor() async throws {
        try await withChat { app, gateway, _, _ in
            let admin = try await Browser.loggedIn(app, "admin")
            let token = try await admin.csrf()
            #expect(try await admin.request(.get, "/admin/websockets/identity").status == .ok)
            #expect(try await admin.request(.post, "/ws/token").status == .ok)
            try await changePassword(of: "admin", on: app)
            #expect(try await admin.request(.get, "/admin/websockets/identity").status == .unauthorized)
            let rule = try await admin.request(
                .post, "/admin/websockets/rules", form: [("channel", "vip"), ("access", "everyone"), ("csrf", token)])
            #expect(rule.status == .unauthorized)
            #expect(try await gateway.dispatcher.channels.rules?.channelRule(for: ChannelName("vip")) == nil, "nothing was written")
            let send = try await admin.request(
                .post, "/admin/websockets/send", form: [("audience", "everyone"), ("body", "hi"), ("csrf", token)])
            #expect(send.status == .unauthorized)
            #expect(try await admin.request(.post, "/ws/token").status == .unauthorized, "no new token")
            #expect(try await admin.request(.get, "/").bodyText.contains(#"data-testid="login-name""#), "the page asks to log in again")
        }
    }

    @Test func webSessionsExpireWhenUnused() async throws {
        // 5 s, not 1: on a loaded machine (a full CI run) more than a second passed between the
        // login and the request right after it, and the fresh login was already over.
        try await withChat({ ChatSettings(databasePath: $0, webSessions: WebSessionPolicy(idleTimeout: .seconds(5))) }) { app, _, _, _ in
            let ada = try await Browser.loggedIn(app, "ada")
            #expect(try await ada.request(.post, "/ws/token").status == .ok)
            try await Task.sleep(for: .seconds(6))
            #expect(try await ada.request(.post, "/ws/token").status == .unauthorized, "idle past its timeout, the login is over")
            let sessions = try #require(app.databaseWebSessions)
            #expect(try await sessions.purgeExpired(before: Date()) == 1, "and the sweep deletes it")
        }
    }

    // The admin's 401 page made a CSRF token (a stored session) for every visitor, and an unknown
    // cookie on `/`, `/ws/token` or a handshake created one: 700 rows from 700 requests.
    @Test func anonymousRequestsStoreNoSessionAndNoToken() async throws {
        try await withChat { app, _, _, _ in
            let fake = try fake(app)
            for n in 0..<200 {
                let stranger = Browser(app: app, cookie: "chat-session=unknown-\(n)")
                #expect(try await stranger.request(.get, "/").status == .ok)
                #expect(try await stranger.request(.post, "/ws/token").status == .unauthorized)
                #expect(try await Browser(app: app).request(.get, "/admin/websockets/identity").status == .unauthorized)
                _ = try await fake.connect(headers: [.cookie: "chat-session=unknown-\(n)", .origin: "http://127.0.0.1:8080"])
            }
            #expect(try await rows("apigw_web_sessions", app) == 0, "nobody logged in, nothing stored")
            #expect(try await rows("apigw_connection_tokens", app) == 0)
            #expect(try await rows("apigw_rate_limit_hits", app) <= 120, "the address's hits stop at its limit")
            _ = try await Browser.loggedIn(app, "ada")
            #expect(try await rows("apigw_web_sessions", app) == 1, "a login is one row")
        }
    }

    // The session cookie logs in on `$connect`, mints tokens and opens the admin: no script may read it.
    @Test func theSessionCookieIsHttpOnlyAndSecureOverHTTPS() async throws {
        try await withChat { app, _, _, _ in
            let login = try await Browser(app: app).request(
                .post, "/login", form: [("name", "ada"), ("password", ChatDemo.defaultPassword)])
            let cookie = try #require(login.headerFields[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"), "\(cookie)")
        }
        try await withChat({ ChatSettings(databasePath: $0, allowedOrigins: ["https://chat.example.com"]) }) { app, _, _, _ in
            var browser = Browser(app: app)
            browser.origin = "https://chat.example.com"
            let login = try await browser.request(.post, "/login", form: [("name", "ada"), ("password", ChatDemo.defaultPassword)])
            let cookie = try #require(login.headerFields[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("Secure"), "\(cookie)")
        }
    }

    // 296 wrong passwords in 8.8 s, all 401, no lockout.
    @Test func passwordGuessesAreThrottledPerName() async throws {
        try await withChat { app, _, _, _ in
            for _ in 0..<10 {
                #expect(
                    try await Browser(app: app).request(.post, "/login", form: [("name", "ada"), ("password", "guess")]).status
                        == .unauthorized)
            }
            let right = try await Browser(app: app).request(
                .post, "/login", form: [("name", "ada"), ("password", ChatDemo.defaultPassword)])
            #expect(right.status == .tooManyRequests, "the right password does not unlock a throttled name")
            #expect(right.headerFields[HTTPField.Name("Retry-After")!] != nil)
            #expect(
                try await Browser(app: app).request(.post, "/login", form: [("name", "bob"), ("password", ChatDemo.defaultPassword)]).status
                    == .ok)
        }
    }

    final class CountingHasher: PasswordHasher {
        let verified = Atomic<Int>(0)
        func hash<Password: DataProtocol>(_ password: Password) throws -> [UInt8] {
            Array(try Bcrypt.hash(String(decoding: password, as: UTF8.self), cost: 4).utf8)
        }
        func verify<Password: DataProtocol, Digest: DataProtocol>(_ password: Password, created digest: Digest) throws -> Bool {
            verified.add(1, ordering: .relaxed)
            return try Bcrypt.verify(String(decoding: password, as: UTF8.self), created: String(decoding: digest, as: UTF8.self))
        }
    }

    // Existing names answered in 29 ms, unknown ones in 3 ms: bcrypt ran only for names that exist.
    @Test func anUnknownNameCostsTheSameBcryptWork() async throws {
        try await withChat { app, _, _, _ in
            let hasher = CountingHasher()
            app.passwords.use { _ in hasher }
            let unknown = try await Browser(app: app).request(.post, "/login", form: [("name", "nobody"), ("password", "x")])
            #expect(unknown.status == .unauthorized)
            #expect(hasher.verified.load(ordering: .relaxed) == 1, "a bcrypt check for a name that does not exist")
            _ = try await Browser(app: app).request(.post, "/login", form: [("name", "ada"), ("password", "x")])
            #expect(hasher.verified.load(ordering: .relaxed) == 2)
        }
    }

    // A token fetched before logout took the destroyed web session's hash: a second login and
    // logout closed nothing and the socket stayed the user's for up to 2 h.
    @Test func aTokenFetchedBeforeLogoutOpensNothingAfterIt() async throws {
        try await withChat { app, _, _, _ in
            let ada = try await Browser.loggedIn(app, "ada")
            let issued = try await ada.request(.post, "/ws/token")
            let token = try #require(
                (try? JSONSerialization.jsonObject(with: Data(buffer: issued.body)) as? [String: Any])?["token"] as? String)
            #expect(try await ada.request(.post, "/logout").status == .ok)
            #expect(try await fake(app).connect(query: ["ws_token": token]).connectResponse.status == .unauthorized)
        }
    }

    // `sessions/close` with `connection_id=not an id!` and `rules/remove` with
    // `channel=not a channel!` answered 500.
    @Test func malformedAdminFieldsAreA400WithANotice() async throws {
        try await withChat { app, _, _, _ in
            let admin = try await Browser.loggedIn(app, "admin")
            let token = try await admin.csrf()
            let close = try await admin.request(
                .post, "/admin/websockets/sessions/close", form: [("connection_id", "not an id!"), ("csrf", token)])
            #expect(close.status == .badRequest && close.bodyText.contains("Nothing closed"), "\(close.status)")
            let remove = try await admin.request(
                .post, "/admin/websockets/rules/remove", form: [("channel", "not a channel!"), ("csrf", token)])
            #expect(remove.status == .badRequest && remove.bodyText.contains("No rule removed"), "\(remove.status)")
            let missing = try await admin.request(.post, "/admin/websockets/sessions/close", form: [("csrf", token)])
            #expect(missing.status == .badRequest)
        }
    }

    // After the admin limited a room to staff, bob's open connection kept receiving, posting to
    // and listing it.
    @Test func restrictingARoomInTheAdminRemovesItsMembers() async throws {
        try await withChat { app, gateway, poster, _ in
            try await gateway.dispatcher.channels.saveRule(ChannelRule(channel: ChannelName("ops"), access: .everyone))
            let bob = try await fake(app).connect(query: ["channel": "ops"], headers: try await ChatBrowserLogin.headers(app, "bob"))
            #expect(bob.isAccepted)
            let admin = try await Browser.loggedIn(app, "admin")
            let saved = try await admin.request(
                .post, "/admin/websockets/rules", form: [("channel", "ops"), ("access", "staff"), ("csrf", try await admin.csrf())])
            #expect(saved.status == .ok && saved.bodyText.contains("1 member who may no longer join was removed"), "\(saved.bodyText)")
            #expect(try await gateway.dispatcher.store.channels(of: bob.id, apiID: APIID("chatlocal")).isEmpty)
            #expect(poster.texts(to: bob.id).contains { $0.contains(#""type":"removed""#) && $0.contains(#""channel":"ops""#) })
            #expect(try await bob.send(#"{"action":"join","channel":"ops"}"#).status == .forbidden)
        }
    }

    // A write lock held by another process: no busy timeout, and sqlite-nio's handler retried at
    // once for ever (a core at 100%, every store call hung until the lock went).
    @Test(.timeLimit(.minutes(1))) func aDatabaseLockedByAnotherProcessIsAFast503() async throws {
        try await withChat { app, _, _, path in
            let headers = try await ChatBrowserLogin.headers(app, "ada")
            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            holder.arguments = [
                "python3", "-c",
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN IMMEDIATE');"
                    + " print('locked', flush=True); sys.stdin.read()", path,
            ]
            let input = Pipe(), output = Pipe()
            holder.standardInput = input
            holder.standardOutput = output
            try holder.run()
            defer { if holder.isRunning { holder.terminate() } }
            #expect(String(decoding: output.fileHandleForReading.availableData, as: UTF8.self).hasPrefix("locked"))
            let fake = try fake(app)
            let started = ContinuousClock.now
            let connect = try await fake.connect(headers: headers)
            let elapsed = started.duration(to: .now)
            #expect(connect.connectResponse.status == .serviceUnavailable, "\(connect.connectResponse.status)")
            #expect(elapsed < .seconds(20), "answered in \(elapsed), bounded by the busy timeout (3 s a statement), not hung")
            let token = try await Browser(app: app, cookie: headers[.cookie]).request(.post, "/ws/token")
            #expect(
                token.status == .serviceUnavailable && token.bodyText == #"{"message":"Service unavailable"}"#,
                "\(token.status) \(token.bodyText)")
            try input.fileHandleForWriting.close()
            holder.waitUntilExit()
            #expect(try await fake.connect(headers: headers).isAccepted, "served again once the lock is gone")
        }
    }
}

/// Logging in to the chat as a browser does, for a `$connect`'s headers.
enum ChatBrowserLogin {
    static func headers(_ app: Application, _ name: String) async throws -> HTTPFields {
        let browser = try await AdminPagesTests.Browser.loggedIn(app, name)
        var fields = HTTPFields()
        fields[.cookie] = browser.cookie
        fields[.origin] = "http://127.0.0.1:8080"
        return fields
    }
}
