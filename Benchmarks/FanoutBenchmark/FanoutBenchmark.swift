// Fan-out of one message to every connection in the store, through the real ManagementClient
// (SigV4, keep-alive pool) to a loopback sink that answers like @connections (2% gone).
//
//   swift run -c release FanoutBenchmark run --connections 10000 [--concurrency 64] [--sink URL]
//       [--store sqlite|postgres|sqlite,postgres]   (postgres: APIGW_POSTGRES_URL, a schema of its own)
//   swift run -c release FanoutBenchmark sink --port 9901 [--seconds 600] [--gone-every 50|0]
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
                print("== store \(store)")
                try await run(
                    store: String(store),
                    connections: Int(options["--connections"] ?? "10000") ?? 10_000,
                    concurrency: Int(options["--concurrency"] ?? "64") ?? 64,
                    sink: options["--sink"]
                )
            }
        default:
            print("usage: FanoutBenchmark run|sink [options]")
        }
    }

    static func residentMegabytes(_ field: String) -> Double {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        return kilobytes / 1024
    }

    static func run(store kind: String, connections: Int, concurrency: Int, sink: String?) async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fanout-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) } }
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
        let database: @Sendable () -> any Database = { app.db(nil).logging(to: app.logger) }
        let sql = database() as! any SQLDatabase
        if kind == "sqlite" { try await sql.raw("PRAGMA journal_mode = WAL").run() }

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

        let started = ContinuousClock.now
        let report = try await messenger.send(payload, to: .everyone, on: gateway)
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
        if let schema { try await sql.raw("DROP SCHEMA \(ident: schema) CASCADE").run() }
        try await app.asyncShutdown()
    }
}
