// Fan-out of one message to every connection in the store, through the real ManagementClient
// (SigV4, keep-alive pool) to a loopback sink that answers like @connections (2% gone).
//
//   swift run -c release FanoutBenchmark run --connections 10000 [--concurrency 64] [--sink URL]
//   swift run -c release FanoutBenchmark sink --port 9901 [--seconds 600]
//
// `run` fills a fresh SQLite store, prints RSS before and after, messages/s and the delivery
// report; without --sink it starts the sink in process. `sink` serves the sink alone, so other
// clients (Benchmarks/python/boto3_fanout.py) can post to the same one. Bounded in count and time.

import APIGatewayAWS
import APIGatewayWebSockets
import Fluent
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
            let channel = try await ConnectionsSink.start(port: port)
            print("sink on http://127.0.0.1:\(channel.localAddress!.port!) for \(seconds) s")
            try await Task.sleep(for: .seconds(seconds))
            try await channel.close()
        case "run":
            try await run(
                connections: Int(options["--connections"] ?? "10000") ?? 10_000,
                concurrency: Int(options["--concurrency"] ?? "64") ?? 64,
                sink: options["--sink"]
            )
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

    static func run(connections: Int, concurrency: Int, sink: String?) async throws {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fanout-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) } }
        var environment = Environment.production
        environment.arguments = ["bench"]
        let app = try await Application.make(environment)
        app.logger.logLevel = .error
        app.databases.use(.sqlite(.file(file)), as: .sqlite)
        app.migrations.add(WebSocketMigrations.all)
        try await app.autoMigrate()
        let loop = app.eventLoopGroup.next()
        let database: @Sendable () -> any Database = { app.databases.database(.sqlite, logger: app.logger, on: loop)! }
        let sql = database() as! any SQLDatabase
        try await sql.raw("PRAGMA journal_mode = WAL").run()

        // The audience: `connections` sessions, inserted 500 per statement.
        let apiID = try APIID("fanout1")
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for start in stride(from: 0, to: connections, by: 500) {
            let rows = (start..<min(start + 500, connections)).map { n -> SQLQueryString in
                "(\(bind: String(format: "conn%07d=", n)), \(bind: apiID.rawValue), 'bench', 'all', NULL, \(bind: true), 0, \(bind: now), \(bind: now))"
            }
            try await sql.raw(
                """
                INSERT INTO apigw_sessions (connection_id, api_id, stage, channel, user_id, connected, request_count, created_at, updated_at)
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
        try await app.asyncShutdown()
    }
}
