// Fan-out of one message to every connection in the store, through the real ManagementClient
// (SigV4, keep-alive pool) to a loopback sink that answers like @connections (2% gone).
//
//   swift run -c release FanoutBenchmark run --connections 10000 [--concurrency 64] [--sink URL]
//       [--store sqlite|postgres|sqlite,postgres]   (postgres: APIGW_POSTGRES_URL, a schema of its own)
//   swift run -c release FanoutBenchmark sink --port 9901 [--seconds 600] [--gone-every 50|0]
//   swift run -c release FanoutBenchmark run --connections 100000 --history off,on
//       (the fan-out to a channel of every connection, sent as it is, then published into the
//        channel's stream with its history kept: side by side in one run)
//   swift run -c release FanoutBenchmark publish [--messages 5000] [--callers 64] [--store sqlite,postgres]
//       (publishes to one busy channel, then to 1,000 quiet ones, no members: the stream's own cost,
//        and the bytes a kept message takes)
//
// `run` fills a fresh store, prints RSS before and after, messages/s and the delivery
// report; without --sink it starts the sink in process. `sink` serves the sink alone, so other
// clients (Benchmarks/python/boto3_fanout.py) can post to the same one. Bounded in count and time.

import APIGatewayAWS
import APIGatewayWebSockets
import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import NIOCore
import NIOPosix
import SQLKit
import Vapor
import VaporAPIGatewayWebSockets

@main
struct FanoutBenchmark {
    static func main() async throws {
        var arguments = CommandLine.arguments.dropFirst()
        let mode = arguments.popFirst() ?? "run"
        var options: [String: String] = [:]
        while let flag = arguments.popFirst() { options[flag] = arguments.popFirst() ?? "" }
        switch mode {
        case "sink":
            let port = Int(options["--port"] ?? "9901") ?? 9901
            let seconds = Int(options["--seconds"] ?? "600") ?? 600
            let channel = try await ConnectionsSink.start(port: port, goneEvery: UInt32(options["--gone-every"] ?? "50") ?? 50)
            print("sink on http://127.0.0.1:\(channel.localAddress!.port!) for \(seconds) s")
            try await Task.sleep(for: .seconds(seconds))
            try await channel.close()
        case "run":
            _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
            // Several stores side by side in one run: `--store sqlite,postgres`.
            for store in (options["--store"] ?? "sqlite").split(separator: ",") {
                for history in (options["--history"] ?? "none").split(separator: ",") {
                    print("== store \(store)" + (history == "none" ? "" : ", history \(history)"))
                    try await run(
                        store: String(store),
                        connections: Int(options["--connections"] ?? "10000") ?? 10_000,
                        concurrency: Int(options["--concurrency"] ?? "64") ?? 64,
                        sink: options["--sink"],
                        history: history == "none" ? nil : history == "on"
                    )
                }
            }
        case "publish":
            _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
            for store in (options["--store"] ?? "sqlite").split(separator: ",") {
                print("== store \(store)")
                try await publish(
                    store: String(store), messages: Int(options["--messages"] ?? "5000") ?? 5000,
                    callers: Int(options["--callers"] ?? "64") ?? 64)
            }
        default:
            print("usage: FanoutBenchmark run|sink|publish [options]")
        }
    }

    static func residentMegabytes(_ field: String) -> Double {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        return kilobytes / 1024
    }

    /// A fresh, migrated database of `kind`; `cleanUp` drops it.
    static func database(_ kind: String) async throws -> (app: Application, sql: any SQLDatabase, cleanUp: @Sendable () async throws -> Void) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fanout-\(UUID().uuidString).sqlite").path
        var environment = Environment.production
        environment.arguments = ["bench"]
        let app = try await Application.make(environment)
        app.logger.logLevel = .error
        var schema: String?
        switch kind {
        case "sqlite":
            app.databases.use(.sqlite(.file(file)), as: .sqlite)
        case "postgres":
            guard let url = ProcessInfo.processInfo.environment["APIGW_POSTGRES_URL"] else {
                print("--store postgres needs APIGW_POSTGRES_URL")
                exit(2)
            }
            let name = "fanout_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
            var configuration = try SQLPostgresConfiguration(url: url)
            configuration.searchPath = [name]
            app.databases.use(.postgres(configuration: configuration, maxConnectionsPerEventLoop: 4), as: .psql)
            try await (app.db as! any SQLDatabase).raw("CREATE SCHEMA \(ident: name)").run()
            schema = name
        default:
            print("--store sqlite|postgres")
            exit(2)
        }
        app.migrations.add(WebSocketMigrations.all)
        try await app.autoMigrate()
        let sql = app.db as! any SQLDatabase
        if kind == "sqlite" {
            // As the chat example runs it: WAL, no fsync per commit.
            try await sql.raw("PRAGMA journal_mode = WAL").run()
            try await sql.raw("PRAGMA synchronous = NORMAL").run()
        }
        return (
            app, sql,
            { [schema] in
                if let schema { try await sql.raw("DROP SCHEMA \(ident: schema) CASCADE").run() }
                try await app.asyncShutdown()
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }
            }
        )
    }

    /// - Parameter history: `nil`: one message to `.everyone`; `false`: to a channel of every
    ///   connection, sent as it is; `true`: published into that channel's stream.
    static func run(store kind: String, connections: Int, concurrency: Int, sink: String?, history: Bool?) async throws {
        let (app, sql, cleanUp) = try await database(kind)
        let database: @Sendable () -> any Database = { app.db(nil).logging(to: app.logger) }

        // The audience: `connections` sessions, inserted 500 per statement.
        let apiID = APIID("fanout1")
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for start in stride(from: 0, to: connections, by: 500) {
            let rows = (start..<min(start + 500, connections)).map { n -> SQLQueryString in
                "(\(bind: String(format: "conn%07d=", n)), \(bind: apiID.rawValue), 'bench', NULL, \(bind: true), 0, \(bind: now), \(bind: now))"
            }
            try await sql.raw(
                """
                INSERT INTO apigw_sessions (connection_id, api_id, stage, user_id, connected, request_count, created_at, updated_at)
                VALUES \(rows.joined(separator: ", "))
                """
            ).run()
            if history != nil {
                let members = (start..<min(start + 500, connections)).map { n -> SQLQueryString in
                    "(\(bind: String(format: "conn%07d=", n)), 'all', \(bind: apiID.rawValue), \(bind: now))"
                }
                try await sql.raw(
                    "INSERT INTO apigw_channel_members (connection_id, channel, api_id, joined_at) VALUES \(members.joined(separator: ", "))"
                ).run()
            }
        }
        let sinkChannel: (any Channel)? = sink == nil ? try await ConnectionsSink.start(port: 0) : nil
        let sinkURL = sink ?? "http://127.0.0.1:\(sinkChannel!.localAddress!.port!)"
        let rssBefore = residentMegabytes("VmRSS")

        let http = ManagementClient.makeHTTPClient(maximumConnections: concurrency)
        let client = ManagementClient(
            httpClient: http, credentials: StaticCredentialProvider(Credential(accessKeyID: "AKIDBENCH", secretAccessKey: "bench-secret"))
        )
        let store = FluentConnectionStore(database: database)
        let messenger = Messenger(store: store, poster: client, pageSize: 1000, maxConcurrentPosts: concurrency)
        let gateway = GatewayRecord(
            apiID: apiID, stage: "bench", region: "us-east-1", managementEndpoint: try ManagementEndpoint(url: sinkURL))
        let payload = try Payload(json: ["type": "broadcast", "text": "hello, everyone"])
        let streams = GatewayDispatcher(
            configuration: GatewayConfiguration(streams: StreamConfiguration()), store: store, gateways: CachedGatewayDirectory([gateway]),
            poster: client
        ).streams!

        let started = ContinuousClock.now
        let report: DeliveryReport
        switch history {
        case nil: report = try await messenger.send(payload, to: .everyone, on: gateway)
        case false?: report = try await messenger.send(payload, to: .channel("all"), on: gateway)
        case true?: report = try await streams.publish(payload, to: .channel("all"), on: gateway).report!
        }
        let elapsed = started.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let stillConnected = try await sql.raw("SELECT COUNT(*) AS n FROM apigw_sessions WHERE connected = \(bind: true)").first()!.decode(
            column: "n", as: Int.self)
        print(
            String(
                format: "fan-out to %d connections, %d in flight: %.0f posts/s in %.2f s", connections, concurrency,
                Double(report.attempted) / seconds, seconds))
        print(
            "  report: \(report.sent) sent, \(report.gone.count) gone (marked disconnected: \(connections - stillConnected)), \(report.failedCount) failed\(report.failures.first.map { " e.g. \($0.reason)" } ?? "")"
        )
        print(
            String(
                format: "  RSS: %.1f MB before the fan-out, %.1f MB after, peak %.1f MB", rssBefore, residentMegabytes("VmRSS"),
                residentMegabytes("VmHWM")))

        try await http.shutdown()
        try await sinkChannel?.close()
        try await cleanUp()
    }

    /// The database's size in use: SQLite's pages in use (the WAL's included, free pages not;
    /// no VACUUM, which would wait for ever on the pool's other connections), PostgreSQL's stream
    /// tables with their indexes after `VACUUM FULL`.
    static func size(_ kind: String, _ sql: any SQLDatabase) async throws -> Int {
        if kind == "sqlite" {
            let pages = try await sql.raw("PRAGMA page_count").first()!.decode(column: "page_count", as: Int.self)
            let free = try await sql.raw("PRAGMA freelist_count").first()!.decode(column: "freelist_count", as: Int.self)
            let pageSize = try await sql.raw("PRAGMA page_size").first()!.decode(column: "page_size", as: Int.self)
            return (pages - free) * pageSize
        }
        try await sql.raw("VACUUM FULL apigw_stream_messages").run()
        try await sql.raw("VACUUM FULL apigw_streams").run()
        return try await sql.raw(
            "SELECT pg_total_relation_size('apigw_stream_messages') + pg_total_relation_size('apigw_streams') AS n"
        ).first()!.decode(column: "n", as: Int.self)
    }

    /// `messages` publishes from `callers` concurrent tasks, to one channel, then to 1,000; nobody
    /// is in them, so what is measured is the stream: the append (group-committed), the audience
    /// read, the mark. Then the bytes each kept message takes in the database.
    static func publish(store kind: String, messages: Int, callers: Int) async throws {
        let (app, sql, cleanUp) = try await database(kind)
        let store = FluentConnectionStore { app.db }
        let gateway = GatewayRecord(apiID: "publish1", stage: "bench", region: "us-east-1")
        let streams = GatewayDispatcher(
            configuration: GatewayConfiguration(streams: StreamConfiguration()), store: store, gateways: CachedGatewayDirectory([gateway]),
            poster: LoggingPoster(logger: app.logger)
        ).streams!
        let payload = try Payload(json: ["type": "message", "from": "ada", "text": "a chat line of ordinary length, about sixty bytes"])
        let sizeBefore = try await size(kind, sql)
        for (label, channels) in [("one busy channel", 1), ("1,000 quiet channels", 1000)] {
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for caller in 0..<callers {
                    group.addTask {
                        for index in stride(from: caller, to: messages, by: callers) {
                            let channel = try ChannelName("room\(index % channels)")
                            _ = try await streams.publish(payload, to: .channel(channel), on: gateway)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = started.duration(to: .now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(String(format: "%@, %d callers: %.0f publishes/s (%d in %.2f s)", label, callers, Double(messages) / seconds, messages, seconds))
        }
        // What a kept message costs: the database's growth (tables and indexes) over the rows.
        let rows = try await sql.raw("SELECT COUNT(*) AS n FROM apigw_stream_messages").first()!.decode(column: "n", as: Int.self)
        let bytes = try await size(kind, sql) - sizeBefore
        print(
            "  kept: \(rows) messages; the database grew \(bytes) bytes: \(rows > 0 ? bytes / rows : 0) bytes a message with its indexes (its JSON: \(payload.bytes.readableBytes) bytes)"
        )
        try await cleanUp()
    }
}
