import APIGatewayAWS
import APIGatewayLocal
import APIGatewayWebSockets
import AsyncHTTPClient
import ChatApp
import FluentPostgresDriver
import Foundation
import NIOCore
import NIOPosix
import PeerSupport
import SQLKit
import Synchronization
import Testing
import Vapor
import VaporAPIGatewayWebSockets

/// Past one machine: the chat on PostgreSQL, and two instances of it behind nginx on one database,
/// as API Gateway → load balancer → instances run in production.
@Suite(.serialized) struct ScaleOutTests {
    /// A fresh database on the test server, dropped after `body`.
    func withDatabase(test: String = #function, _ body: (String) async throws -> Void) async throws {
        guard let base = PostgresPeer.require(test: test) else { return }
        let name = "chat_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        let admin = try await Application.make(.testing)
        admin.databases.use(try .postgres(url: base), as: .psql)
        let sql = admin.db as! any SQLDatabase
        try await sql.raw("CREATE DATABASE \(ident: String(name))").run()
        var url = URLComponents(string: base)!
        url.path = "/" + name
        do {
            try await body(url.string!)
        } catch {
            _ = try? await sql.raw("DROP DATABASE IF EXISTS \(ident: String(name)) WITH (FORCE)").run()
            try? await admin.asyncShutdown()
            throw error
        }
        try await sql.raw("DROP DATABASE IF EXISTS \(ident: String(name)) WITH (FORCE)").run()
        try await admin.asyncShutdown()
    }

    /// One instance of the chat on `databaseURL`, counting the requests it serves.
    final class Instance: Sendable {
        let app: Application
        let chat: WebSocketGateway
        let port: Int
        let served = Atomic<Int>(0)

        init(app: Application, chat: WebSocketGateway, port: Int) {
            self.app = app
            self.chat = chat
            self.port = port
        }

        static func start(databaseURL: String) async throws -> Instance {
            let app = try await Application.make(.testing)
            let settings = ChatSettings(allowedOrigins: ["127.0.0.1"], databaseURL: databaseURL)
            let chat = try await configureChat(app, settings: settings, registerAPI: false)
            let counter = Counter()
            app.middleware.use(counter)
            app.http.server.configuration.hostname = "127.0.0.1"
            app.http.server.configuration.port = 0
            try await app.server.start(address: nil)
            let instance = Instance(app: app, chat: chat, port: app.http.server.shared.localAddress!.port!)
            counter.instance.withLock { $0 = instance }
            return instance
        }

        func stop() async throws {
            await app.server.shutdown()
            try await app.asyncShutdown()
        }

        final class Counter: AsyncMiddleware {
            let instance = Mutex<Instance?>(nil)
            func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
                instance.withLock { $0 }?.served.add(1, ordering: .relaxed)
                return try await next.respond(to: request)
            }
        }
    }

    /// Logs in as `name` through `base` and answers the session cookie.
    func login(_ name: String, at base: String) async throws -> String {
        var request = HTTPClientRequest(url: base + "/login")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: "name=\(name)&password=\(ChatDemo.defaultPassword)"))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let setCookie = try #require(response.headers.first(name: "Set-Cookie"), "login as \(name) answered \(response.status)")
        return String(setCookie.split(separator: ";")[0])
    }

    func connect(_ url: String, cookie: String, channel: String) async throws -> TestClient {
        try await TestClient.connect(url + "?channel=" + channel, headers: ["Cookie": cookie, "Origin": "http://127.0.0.1"])
    }

    @Test func theChatRunsOnPostgreSQL() async throws {
        try await withDatabase { url in
            let local = LocalGateway(configuration: LocalGatewayConfiguration(port: 0))
            try await local.start()
            let instance = try await Instance.start(databaseURL: url)
            let backend = "http://127.0.0.1:\(instance.port)"
            let record = try await ChatProvisioning.provisionLocalGateway(
                instance.app, gateway: instance.chat, settings: ChatSettings(), backend: backend,
                controlPlane: "http://127.0.0.1:\(local.port!)")
            let socket = try #require(instance.chat.clientSettings?.url)
            let ada = try await connect(socket, cookie: try await login("ada", at: backend), channel: "lobby")
            let bob = try await connect(socket, cookie: try await login("bob", at: backend), channel: "lobby")
            try await ada.send(#"{"action":"sendmessage","text":"on postgres"}"#)
            for client in [ada, bob] { #expect(await client.next()?.contains("on postgres") == true) }
            let live = try await instance.chat.dispatcher.store.sessions(
                SessionFilter(apiID: record.apiID, connected: true), after: nil, limit: 10)
            #expect(live.map(\.userID).sorted { ($0 ?? "") < ($1 ?? "") } == ["ada", "bob"], "sessions in PostgreSQL")
            try await ada.close()
            try await bob.close()
            try await instance.stop()
            try await local.stop()
        }
    }

    /// nginx in front of `ports`, on a free port; stopped by `stop`.
    struct Nginx {
        let process: Process
        let port: Int
        let folder: URL

        static func start(upstreams ports: [Int]) throws -> Nginx? {
            let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
            guard let binary else {
                let message = "nginx is missing: install Debian's nginx (.ci/run does)"
                if PythonPeer.required { Issue.record(Comment(rawValue: message)) } else { print("SKIPPED: \(message)") }
                return nil
            }
            let port = try freePort()
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nginx-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("logs"), withIntermediateDirectories: true)
            let servers = ports.map { "server 127.0.0.1:\($0) max_fails=1 fail_timeout=5s;" }.joined(separator: "\n        ")
            let configuration = """
                worker_processes 1;
                pid \(folder.path)/nginx.pid;
                error_log \(folder.path)/logs/error.log warn;
                events { worker_connections 1024; }
                http {
                    access_log off;
                    client_body_temp_path \(folder.path)/body;
                    proxy_temp_path \(folder.path)/proxy;
                    upstream chat {
                        \(servers)
                        keepalive 16;
                    }
                    server {
                        listen 127.0.0.1:\(port);
                        location / {
                            proxy_pass http://chat;
                            proxy_http_version 1.1;
                            proxy_set_header Connection "";
                            proxy_set_header Host $host;
                            # API Gateway's X-Forwarded-For goes through as it came.
                            proxy_set_header X-Forwarded-For $http_x_forwarded_for;
                            # An instance that is down: the event goes to the other (events are POSTs).
                            proxy_next_upstream error timeout http_502 non_idempotent;
                            proxy_connect_timeout 1s;
                        }
                    }
                }
                """
            let file = folder.appendingPathComponent("nginx.conf")
            try configuration.write(to: file, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["-c", file.path, "-p", folder.path, "-g", "daemon off;"]
            try process.run()
            return Nginx(process: process, port: port, folder: folder)
        }

        func stop() {
            process.terminate()
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: folder)
        }

        static func freePort() throws -> Int {
            let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
            let port = channel.localAddress!.port!
            try channel.close().wait()
            return port
        }
    }

    @Test func twoInstancesBehindNginxShareConnectionsAndSurviveOneStopping() async throws {
        try await withDatabase { url in
            let local = LocalGateway(configuration: LocalGatewayConfiguration(port: 0))
            try await local.start()
            let a = try await Instance.start(databaseURL: url)
            let b = try await Instance.start(databaseURL: url)
            guard let nginx = try Nginx.start(upstreams: [a.port, b.port]) else {
                try await a.stop()
                try await b.stop()
                try await local.stop()
                return
            }
            defer { nginx.stop() }
            let balancer = "http://127.0.0.1:\(nginx.port)"
            #expect(await eventually { (try? await HTTPClient.shared.get(url: balancer + "/").get())?.status == .ok }, "nginx is up")
            // The local gateway's integrations point at nginx, as API Gateway's would at the load balancer.
            let record = try await ChatProvisioning.provisionLocalGateway(
                a.app, gateway: a.chat, settings: ChatSettings(), backend: balancer, controlPlane: "http://127.0.0.1:\(local.port!)")
            let socket = try #require(a.chat.clientSettings?.url)

            var clients: [(name: String, client: TestClient)] = []
            for name in ["ada", "bob", "ada", "bob", "ada", "bob"] {
                clients.append((name, try await connect(socket, cookie: try await login(name, at: balancer), channel: "lobby")))
            }
            let store = a.chat.dispatcher.store
            #expect(await eventually { (try? await store.count(of: ChannelName("lobby"), apiID: record.apiID).connections) == 6 })
            #expect(a.served.load(ordering: .relaxed) > 3 && b.served.load(ordering: .relaxed) > 3, "both instances serve events")

            // A broadcast from A reaches every client, whichever instance its $connect went to.
            let everyone = try await a.chat.dispatcher.messenger.send(try Payload(text: #"{"from":"a"}"#), to: .everyone, on: record)
            #expect(everyone.sent == 6 && everyone.gone.isEmpty && everyone.failedCount == 0, "\(everyone)")
            for (_, client) in clients { #expect(await client.next() == #"{"from":"a"}"#) }
            // A send to a user from B reaches that user's connections on both instances.
            let bRecord = try #require(try await b.chat.directory.gateway(record.apiID), "B learns the API from the shared records")
            let toAda = try await b.chat.dispatcher.messenger.send(try Payload(text: #"{"to":"ada"}"#), to: .user("ada"), on: bRecord)
            #expect(toAda.sent == 3, "\(toAda)")
            for (name, client) in clients where name == "ada" { #expect(await client.next() == #"{"to":"ada"}"#) }
            for (name, client) in clients where name == "bob" { #expect(await client.next(timeout: .milliseconds(200)) == nil) }

            // B stops mid-run: every event nginx can still send to A is answered.
            try await b.stop()
            var answered = 0
            for round in 0..<10 {
                for (_, client) in clients {
                    try await client.send(#"{"action":"echo","n":\#(round)}"#)
                    if await client.next(timeout: .seconds(5))?.contains(#""echo""#) == true { answered += 1 }
                }
            }
            #expect(answered == 60, "every message answered with one instance down: \(answered) of 60")

            // A client leaving is marked once; the next broadcast does not count it.
            try await clients[0].client.close()
            #expect(await eventually { (try? await store.count(of: ChannelName("lobby"), apiID: record.apiID).connections) == 5 })
            let after = try await a.chat.dispatcher.messenger.send(try Payload(text: "{}"), to: .everyone, on: record)
            #expect(after.attempted == 5 && after.gone.isEmpty, "\(after)")
            for (_, client) in clients.dropFirst() { try await client.close() }
            try await a.stop()
            try await local.stop()
        }
    }
}
