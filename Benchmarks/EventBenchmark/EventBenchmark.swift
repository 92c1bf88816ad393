// Message events through the real HTTP stack on loopback: connect N clients, drive messages to
// a handler that replies with a small JSON document into a recording poster, then disconnect.
//
//   swift run -c release EventBenchmark [--store sqlite|postgres|memory|sqlite,postgres] [--checks off|on|both]
//       [--nginx 1,2]   (with --store postgres: behind nginx, one instance then two, in one run)
//       [--door vapor|hummingbird|vapor,hummingbird]   (the adapter the events go through)
//       [--sink URL]   (replies signed and posted by ManagementClient to an @connections sink,
//                       e.g. `FanoutBenchmark sink`; default: a recording poster, no post)
//       [--connections N] [--messages M] [--clients C[,C…]] [--steady-seconds S]
//       [--send reply|channel]   (what a message does: reply to its sender, or send to its channel of 10)
//       [--streams off|on|off,on]   (channel sends published into the channel's stream, with history)
//       [--two-way]   (the `$default` route two-way: a reply travels in the response, no post)
//   swift run -c release EventBenchmark --serve PORT [--sink URL] [--seconds S] [--two-way]
//       (the benchmark's backend alone on 127.0.0.1:PORT, SQLite, for an outside load generator:
//        Benchmarks/python/compare.sh drives it and the Python package with wrk)
//
// Prints events/s and p50/p99 latency for closed-loop runs at each client count, then p50/p99
// for an open-loop run at half the best rate (latency measured from each request's scheduled
// time, so a stall is not hidden). Every loop is bounded in count and in time.
//
// `--checks on` connects every client as a logged-in user (half by the login cookie through the
// app's session middleware, half by a one-time token), requires a login to connect, and sends to a
// handler that requires a permission, with the login state checked on every message; `both` (the
// default) runs without the checks, then with them, in one run.
//
// At each client count the same load first goes to the door's bare handler (`POST /bench/bare`:
// the body collected, 200, nothing else), the ceiling an event cannot pass on that door, and the
// event's rate is printed as a fraction of it.

import APIGatewayAWS
import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import AsyncHTTPClient
import ChatApp
import FluentPostgresDriver
import Foundation
import HTTPTypes
import NIOCore
import NIOPosix
import SQLKit
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

struct Options {
    var store = "sqlite"
    var connections = 100
    var messages = 40_000
    var clients = [8, 32, 64]
    var steadySeconds = 5.0
    var executor = "nio"
    var checks = "both"
    var nginx: [Int] = []
    var door = "vapor"
    var sink: String?
    var serve: Int?
    var seconds = 600
    var send = "reply"
    var streams = ["off"]
    var twoWay = false

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            if flag == "--two-way" {
                twoWay = true
                continue
            }
            let value = iterator.next() ?? ""
            switch flag {
            case "--store": store = value
            case "--connections": connections = Int(value) ?? connections
            case "--messages": messages = Int(value) ?? messages
            case "--clients": clients = value.split(separator: ",").compactMap { Int($0) }
            case "--steady-seconds": steadySeconds = Double(value) ?? steadySeconds
            case "--executor": executor = value
            case "--checks": checks = value
            case "--nginx": nginx = value.split(separator: ",").compactMap { Int($0) }
            case "--door": door = value
            case "--sink": sink = value
            case "--serve": serve = Int(value)
            case "--seconds": seconds = Int(value) ?? seconds
            case "--send": send = value
            case "--streams": streams = value.split(separator: ",").map(String.init)
            default: print("unknown option \(flag)"); exit(2)
            }
        }
    }
}

/// Latencies in nanoseconds, summarised.
struct Latencies {
    var samples: [UInt64] = []
    mutating func add(_ duration: Duration) {
        let (s, a) = duration.components
        samples.append(UInt64(s) * 1_000_000_000 + UInt64(a / 1_000_000_000))
    }
    func percentile(_ p: Double) -> Double {
        guard !samples.isEmpty else { return .nan }
        let sorted = samples.sorted()
        return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1_000_000
    }
}

/// The benchmark's `$default` controller: `echo` replies `{"echo": text}`, `whoami`
/// `{"connectionId": id}`; with checks, a connect needs a user and `echo` the `bench.post` permission.
struct BenchController: WebSocketController {
    let routeKey = RouteKey.default
    let checks: Bool
    var twoWay = false
    var connectRequirement: Requirement? { checks ? .authenticated : nil }

    struct Echo: Decodable, Sendable { let text: String }
    struct Say: Decodable, Sendable {
        let channel: ChannelName
        let text: String
    }

    func handlers(_ handlers: inout HandlerRegistry) {
        handlers.on("echo", Echo.self, requires: checks ? .permission("bench.post") : nil) { message, context in
            try await context.reply(["echo": message.text])
        }
        // A channel send (its ten members), without a reply: with streams on, published into its stream.
        handlers.on("say", Say.self) { message, context in
            try await context.send(["type": "message", "text": message.text], to: .channel(message.channel))
        }
        // The local gateway benchmark's round trip: the connection's id, as the chat answers it.
        handlers.onRaw("whoami") { _, context in try await context.reply(["connectionId": context.connectionID.rawValue]) }
    }
}

/// The app's users, as a login keeps them: every user may post, and logins never change here
/// (the app's own lookups cost nothing, so the figures are the framework's).
struct BenchUsers: PermissionSource, AuthStateSource {
    func user(_ userID: String, has permission: Permission) async throws -> Bool { permission.name == "bench.post" }
    func authState(ofUser userID: String) async throws -> String? { "state-of-" + userID }
}

struct BenchUser: SessionAuthenticatable {
    let name: String
    var sessionID: String { name }
}

struct BenchSessions: AsyncSessionAuthenticator {
    typealias User = BenchUser
    func authenticate(sessionID: String, for request: Request) async throws { request.auth.login(BenchUser(name: sessionID)) }
}

@main
struct EventBenchmark {
    static func main() async throws {
        let options = Options(CommandLine.arguments)
        // Swift concurrency runs on NIO's event loops: no hop between executors per event.
        let onEventLoops =
            options.executor == "nio" && NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        print(
            "store: \(options.store), connections: \(options.connections), concurrency on NIO event loops: \(onEventLoops), release: \(!_isDebugAssertConfiguration())"
        )
        if let port = options.serve {
            try await serve(options, port: port)
            return
        }
        let modes = options.checks == "both" ? [false, true] : [options.checks == "on"]
        // Several stores side by side in one run: `--store sqlite,postgres`.
        for store in options.store.split(separator: ",").map(String.init) {
            var one = options
            one.store = store
            print("== store \(store)")
            if !options.nginx.isEmpty {
                for instances in options.nginx {
                    print("-- \(instances) instance(s) behind nginx")
                    try await run(one, checks: false, instances: instances)
                }
                continue
            }
            for door in options.door.split(separator: ",").map(String.init) {
                one.door = door
                print("-- door \(door)")
                // The login checks run through Vapor's session middleware: the Vapor door's only.
                for checks in door == "vapor" ? modes : [false] {
                    for streams in options.streams {
                        if options.streams.count > 1 || streams == "on" { print("-- streams \(streams)") }
                        try await run(one, checks: checks, streams: streams == "on")
                    }
                }
            }
        }
    }

    /// The benchmark's controller served alone, without checks, on a SQLite file, until `--seconds`
    /// pass: `POST /ws/connect|disconnect|default`, the reply to `echo` posted to `--sink`, and the
    /// bare handler at `POST /bench/bare`.
    static func serve(_ options: Options, port: Int) async throws {
        let databaseFile = FileManager.default.temporaryDirectory.appendingPathComponent("event-serve-\(UUID().uuidString).sqlite").path
        var environment = Environment.production
        environment.arguments = ["bench"]
        let app = try await Application.make(environment)
        app.logger.logLevel = .error
        var settings = ChatSettings(databasePath: databaseFile)
        let http = ManagementClient.makeHTTPClient(maximumConnections: 64)
        let poster: any ConnectionPoster
        if let sink = options.sink {
            settings.gateway.managementEndpoint = try ManagementEndpoint(url: sink)
            // The local gateway's development key: it verifies what it is sent (a sink does not).
            poster = ManagementClient(httpClient: http, credentials: StaticCredentialProvider(ChatSettings.localCredentials))
        } else {
            poster = RecordingPoster()
        }
        let store = try await useSQLite(app, path: databaseFile)
        let gateway = WebSocketGateway(
            app: app, configuration: GatewayConfiguration(secrets: [settings.secret]), store: store, poster: poster)
        try gateway.register(BenchController(checks: false, twoWay: options.twoWay))
        try await gateway.registerGateway(settings.gateway)
        app.post("bench", "bare") { _ in HTTPStatus.ok }  // the ceiling: the same request, nothing done
        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = port
        try await app.server.start(address: nil)
        print(
            "serving api \(settings.gateway.apiID) on http://127.0.0.1:\(port) for \(options.seconds) s, secret header \(settings.secret)"
                + (options.twoWay ? ", $default two-way" : ""))
        try await Task.sleep(for: .seconds(options.seconds))
        await app.server.shutdown()
        try await http.shutdown()
        try await app.asyncShutdown()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databaseFile + suffix) }
    }

    /// - Parameter instances: 0, the app alone; 1 or more, that many instances (one process, one
    ///   PostgreSQL schema) behind nginx.
    static func run(_ options: Options, checks: Bool, instances: Int = 0, streams: Bool = false) async throws {
        let databaseFile = FileManager.default.temporaryDirectory.appendingPathComponent("event-bench-\(UUID().uuidString).sqlite").path
        var environment = Environment.production
        environment.arguments = ["bench"]
        let app = try await Application.make(environment)
        app.logger.logLevel = .error
        let recording = RecordingPoster()
        var settings = ChatSettings(databasePath: databaseFile)
        let sinkClient = options.sink.map { _ in ManagementClient.makeHTTPClient(maximumConnections: 64) }
        let poster: any ConnectionPoster
        if let sink = options.sink, let sinkClient {
            settings.gateway.managementEndpoint = try ManagementEndpoint(url: sink)
            poster = ManagementClient(
                httpClient: sinkClient,
                credentials: StaticCredentialProvider(Credential(accessKeyID: "AKIDBENCH", secretAccessKey: "bench-secret")))
        } else {
            poster = recording
        }
        let store: any ConnectionStore
        var postgres: SQLPostgresConfiguration?
        if options.store == "memory" {
            // Sessions in process memory: the HTTP and dispatch cost alone.
            app.databases.use(.sqlite(.file(databaseFile)), as: .sqlite)
            app.migrations.add(WebSocketMigrations.all)
            try await app.autoMigrate()
            store = InMemoryConnectionStore()
        } else if options.store == "postgres" {
            // APIGW_POSTGRES_URL names the server; the benchmark works in a schema of its own.
            guard let url = ProcessInfo.processInfo.environment["APIGW_POSTGRES_URL"] else {
                print("--store postgres needs APIGW_POSTGRES_URL")
                exit(2)
            }
            let schema = "bench_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
            var configuration = try SQLPostgresConfiguration(url: url)
            configuration.searchPath = [String(schema)]
            app.databases.use(.postgres(configuration: configuration, maxConnectionsPerEventLoop: 8), as: .psql)
            postgres = configuration
            try await (app.db as! any SQLDatabase).raw("CREATE SCHEMA \(ident: String(schema))").run()
            app.migrations.add(WebSocketMigrations.all)
            try await app.autoMigrate()
            store = FluentConnectionStore { app.db }
        } else {
            store = try await useSQLite(app, path: databaseFile)
        }
        app.sessions.use(.memory)
        let login: [any Middleware] = [app.sessions.middleware, BenchSessions()]
        var configuration = GatewayConfiguration(secrets: [settings.secret])
        if checks { configuration.allowedOrigins = ["http://127.0.0.1:8080"] }
        if streams { configuration.streams = StreamConfiguration() }
        let gateway = WebSocketGateway(
            app: app, configuration: configuration, store: store, poster: poster,
            authentication: checks
                ? ConnectAuthentication(middleware: login) { request in
                    request.auth.get(BenchUser.self).map { AuthenticatedUser(id: $0.name, webSessionID: request.session.id?.string) }
                } : nil,
            permissions: checks ? BenchUsers() : nil, authState: checks ? BenchUsers() : nil)
        try gateway.register(BenchController(checks: checks, twoWay: options.twoWay))
        try await gateway.registerGateway(settings.gateway)
        app.grouped(login).post("login") { request -> HTTPStatus in
            let user = BenchUser(name: try request.query.get(String.self, at: "name"))
            request.auth.login(user)
            request.session.authenticate(user)
            return .ok
        }
        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = 0
        app.post("bench", "bare") { _ in HTTPStatus.ok }
        try await app.server.start(address: nil)
        var port = app.http.server.shared.localAddress!.port!
        // The Hummingbird door: the same store and poster, a dispatcher of its own on a Hummingbird router.
        var hummingbird: HummingbirdDoor?
        if options.door == "hummingbird" {
            let door = try await HummingbirdDoor(
                dispatcher: GatewayDispatcher(
                    configuration: configuration, store: store, gateways: CachedGatewayDirectory([settings.gateway]), poster: poster),
                controller: BenchController(checks: false, twoWay: options.twoWay))
            hummingbird = door
            port = door.port
        }
        // More instances on the same schema, and nginx in front of them all.
        var others: [Application] = []
        var balancer: Balancer?
        if instances > 0 {
            guard let postgres else { print("--nginx needs --store postgres"); exit(2) }
            var ports = [port]
            for _ in 1..<max(1, instances) {
                let other = try await Application.make(environment)
                other.logger.logLevel = .error
                other.databases.use(.postgres(configuration: postgres, maxConnectionsPerEventLoop: 8), as: .psql)
                let otherGateway = WebSocketGateway(
                    app: other, configuration: configuration, store: FluentConnectionStore { other.db }, poster: poster)
                try otherGateway.register(BenchController(checks: false, twoWay: options.twoWay))
                try await otherGateway.directory.reload()
                other.http.server.configuration.hostname = "127.0.0.1"
                other.http.server.configuration.port = 0
                try await other.server.start(address: nil)
                ports.append(other.http.server.shared.localAddress!.port!)
                others.append(other)
            }
            let started = try await Balancer(upstreams: ports)
            balancer = started
            port = started.port
            try await Task.sleep(for: .milliseconds(300))  // nginx binds
        }

        // The load generator has an event loop of its own; the server has NIO's two.
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        let client = HTTPClient(eventLoopGroupProvider: .shared(clientGroup), configuration: clientConfiguration)
        var fake = try FakeAPIGateway(app: app, apiID: settings.gateway.apiID, stage: "local", secret: settings.secret)
        fake.transport = LiveTransport(baseURL: "http://127.0.0.1:\(port)", client: client)

        print(checks ? "with login, token, permission and login-state checks:" : "without identity checks:")
        var connections: [FakeConnection] = []
        let tokens = ConnectionTokens(store: gateway.dispatcher.identity!, perUserPerMinute: options.connections)
        for n in 0..<options.connections {
            var query: KeyValuePairs<String, String> = ["channel": "bench\(n % 10)"]
            var headers = HTTPFields()
            if checks {
                let name = "user\(n % 50)"
                if n % 2 == 0 {
                    var login = HTTPClientRequest(url: "http://127.0.0.1:\(port)/login?name=\(name)")
                    login.method = .POST
                    let response = try await client.execute(login, timeout: .seconds(10))
                    headers[.cookie] = String(response.headers.first(name: "Set-Cookie")!.split(separator: ";")[0])
                    headers[.origin] = "http://127.0.0.1:8080"
                } else {
                    let issued = try await tokens.issue(userID: name, webSessionID: nil)
                    query = ["channel": "bench\(n % 10)", "ws_token": issued.token]
                }
            }
            let connection = try await fake.connect(query: query, headers: headers)
            precondition(connection.isAccepted, "connect refused: \(connection.connectResponse.status)")
            connections.append(connection)
        }
        // Requests are built before the clock starts: the benchmark times the server, not the builder.
        let body = ByteBuffer(string: #"{"action":"echo","text":"hello, benchmark"}"#)
        // A channel send: each connection says something to its own channel (`bench0`…`bench9`).
        let events = try connections.enumerated().map { n, connection in
            guard options.send == "channel" else { return try connection.request(for: body) }
            return try connection.request(for: ByteBuffer(string: #"{"action":"say","channel":"bench\#(n % 10)","text":"hello, benchmark"}"#))
        }
        let bare = events.map { request in
            var request = request
            request.path = "/bench/bare"
            return request
        }
        var requests = events
        let transport = fake.transport
        // Each message replied to once; a channel send posts to its channel's ten members instead.
        // Two-way, the reply is the response's body: nothing is posted.
        let replies = options.sink == nil && options.send != "channel" && !options.twoWay
        let answered = options.twoWay && options.send != "channel"

        func closedLoop(clients: Int, messages: Int) async throws -> (rate: Double, latencies: Latencies) {
            recording.reset()
            let requests = requests
            let started = ContinuousClock.now
            let deadline = started + .seconds(120)
            let perClient = messages / clients
            let latencies = try await withThrowingTaskGroup(of: Latencies.self) { group in
                for worker in 0..<clients {
                    group.addTask {
                        var latencies = Latencies()
                        latencies.samples.reserveCapacity(perClient)
                        for n in 0..<perClient where ContinuousClock.now < deadline {
                            let request = requests[(worker + n * clients) % requests.count]
                            let sent = ContinuousClock.now
                            let response = try await transport.send(request)
                            precondition(response.status == .ok, "message refused: \(response.status)")
                            precondition(!answered || request.path == "/bench/bare" || response.body.readableBytes > 0, "no reply in the response")
                            latencies.add(sent.duration(to: .now))
                        }
                        return latencies
                    }
                }
                var all = Latencies()
                for try await part in group { all.samples += part.samples }
                return all
            }
            let elapsed = started.duration(to: .now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            precondition(
                !replies || requests[0].path == "/bench/bare" || recording.posts.count == latencies.samples.count,
                "every message replied once")
            return (Double(latencies.samples.count) / seconds, latencies)
        }

        /// Sends at `rate` per second for `seconds`, in 1 ms ticks, at most 512 in flight; latency is
        /// measured from each request's scheduled time, so a stall is not hidden.
        func openLoop(rate: Double, seconds: Double) async throws -> (sent: Int, latencies: Latencies) {
            recording.reset()
            let requests = requests
            let total = Int(rate * seconds)
            let started = ContinuousClock.now
            return try await withThrowingTaskGroup(of: Duration.self) { group in
                var latencies = Latencies()
                latencies.samples.reserveCapacity(total)
                var inFlight = 0
                var sent = 0
                var tick = 1
                while sent < total {
                    let tickTime = started + .milliseconds(tick)
                    if tickTime > .now { try await Task.sleep(until: tickTime, clock: .continuous) }
                    let due = min(total, Int(rate * Double(tick) / 1000))
                    while sent < due {
                        let scheduled = started + .nanoseconds(Int64(Double(sent) * 1e9 / rate))
                        while inFlight >= 512, let done = try await group.next() { latencies.add(done); inFlight -= 1 }
                        let request = requests[sent % requests.count]
                        group.addTask {
                            let response = try await transport.send(request)
                            precondition(response.status == .ok, "message refused: \(response.status)")
                            return scheduled.duration(to: .now)
                        }
                        inFlight += 1
                        sent += 1
                    }
                    tick += 1
                }
                for try await done in group { latencies.add(done) }
                return (total, latencies)
            }
        }

        _ = try await closedLoop(clients: 8, messages: 2_000)  // warm-up
        var best = 0.0
        for clients in options.clients {
            requests = bare
            let (ceiling, bareLatencies) = try await closedLoop(clients: clients, messages: options.messages)
            requests = events
            let (rate, latencies) = try await closedLoop(clients: clients, messages: options.messages)
            best = max(best, rate)
            print(
                String(
                    format:
                        "closed loop  %3d clients  %8.0f events/s  p50 %6.2f ms  p99 %6.2f ms  (%d messages)  bare handler %8.0f/s p50 %5.2f ms: %.2f of it",
                    clients, rate, latencies.percentile(0.5), latencies.percentile(0.99), latencies.samples.count, ceiling,
                    bareLatencies.percentile(0.5), rate / ceiling))
        }
        let steady = best / 2
        let (sent, steadyLatencies) = try await openLoop(rate: steady, seconds: options.steadySeconds)
        print(
            String(
                format: "open loop at %.0f events/s (half the best)  p50 %6.2f ms  p99 %6.2f ms  (%d messages)",
                steady, steadyLatencies.percentile(0.5), steadyLatencies.percentile(0.99), sent))

        for connection in connections { _ = try await connection.disconnect() }
        let stillConnected = try await gateway.dispatcher.store.audience(.everyone, apiID: settings.gateway.apiID, after: nil, limit: 10)
        precondition(stillConnected.isEmpty, "every session disconnected")
        try await client.shutdown()
        try await clientGroup.shutdownGracefully()
        balancer?.stop()
        try await hummingbird?.stop()
        try await sinkClient?.shutdown()
        for other in others {
            await other.server.shutdown()
            try await other.asyncShutdown()
        }
        await app.server.shutdown()
        try await app.asyncShutdown()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databaseFile + suffix) }

    }
}

/// nginx in front of `upstreams`, round robin with keep-alive, as a load balancer before instances.
struct Balancer {
    let process: Process
    let port: Int
    let folder: URL

    init(upstreams: [Int]) async throws {
        let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        port = probe.localAddress!.port!
        try await probe.close()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("bench-nginx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("logs"), withIntermediateDirectories: true)
        let servers = upstreams.map { "server 127.0.0.1:\($0);" }.joined(separator: " ")
        let text = """
            worker_processes 1; pid \(folder.path)/nginx.pid; error_log \(folder.path)/logs/error.log error;
            events { worker_connections 4096; }
            http { access_log off; client_body_temp_path \(folder.path)/body; proxy_temp_path \(folder.path)/proxy;
              upstream backends { \(servers) keepalive 128; }
              server { listen 127.0.0.1:\(port);
                location / { proxy_pass http://backends; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
            """
        let file = folder.appendingPathComponent("nginx.conf")
        try text.write(to: file, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        process.arguments = ["-c", file.path, "-p", folder.path, "-g", "daemon off;"]
        try process.run()
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }
}
