// The local gateway under load, in three processes on loopback:
//
//   for p in apigateway-local EventBenchmark LocalGatewayBenchmark; do swift build -c release --product $p; done
//   .build/release/EventBenchmark --serve 8080 --sink http://127.0.0.1:8081/chatlocal/local &  # the backend
// (the chat example needs a login on $connect and allows 60 a minute per user since the identity checks:
// the benchmark's backend connects anyone and answers `whoami` with the connection's id)
//   .build/release/apigateway-local --declare Benchmarks/LocalGatewayBenchmark/chat.json & # the gateway
//   .build/release/LocalGatewayBenchmark --gateway-pid $! --connections 10000
//
// Holds N idle client connections and reports the gateway's RSS per connection (from
// /proc/PID/status), then drives full round trips (client → gateway → backend → @connections →
// client, the chat example's `whoami`) from C clients in a closed loop and reports messages/s and
// p50/p99. Then (with --slow-readers N, default 10) opens N clients that stop reading and posts
// --posts M (default 4,000) messages of 120 KB to them through @connections, signed with the
// development key: the gateway's peak RSS and how many posts were answered 429. Bounded in count
// and time.

import APIGatewayAWS
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import WebSocketKit

@main
struct LocalGatewayBenchmark {
    static func main() async throws {
        var options: [String: String] = [:]
        var arguments = CommandLine.arguments.dropFirst()
        while let flag = arguments.popFirst() { options[flag] = arguments.popFirst() ?? "" }
        let url = options["--gateway"] ?? "ws://127.0.0.1:8081/chatlocal/local"
        let pid = options["--gateway-pid"]
        let idle = Int(options["--connections"] ?? "10000") ?? 10_000
        let active = Int(options["--clients"] ?? "32") ?? 32
        let messages = Int(options["--messages"] ?? "20000") ?? 20_000

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let rssBefore = pid.map(rss) ?? 0
        // Idle connections, 100 handshakes at a time.
        var sockets: [WebSocket] = []
        let connectStarted = ContinuousClock.now
        for start in stride(from: 0, to: idle, by: 100) {
            let batch = try await withThrowingTaskGroup(of: WebSocket.self) { tasks in
                for n in start..<min(start + 100, idle) {
                    tasks.addTask { try await connect(url + "?channel=idle\(n % 50)", group: group).socket }
                }
                var opened: [WebSocket] = []
                for try await socket in tasks { opened.append(socket) }
                return opened
            }
            sockets += batch
        }
        let connectSeconds = seconds(connectStarted.duration(to: .now))
        let rssAfter = pid.map(rss) ?? 0
        print(
            String(
                format: "%d idle connections opened in %.1f s (%.0f/s)", sockets.count, connectSeconds,
                Double(sockets.count) / connectSeconds))
        if pid != nil {
            print(
                String(
                    format: "gateway RSS: %.1f MB before, %.1f MB with %d connections: %.1f KB per connection",
                    rssBefore, rssAfter, sockets.count, (rssAfter - rssBefore) * 1024 / Double(max(1, sockets.count))))
        }

        // Round trips: whoami goes to the backend, which answers through @connections.
        let clients = try await withThrowingTaskGroup(of: Client.self) { tasks in
            for _ in 0..<active { tasks.addTask { try await connect(url + "?channel=active", group: group) } }
            var opened: [Client] = []
            for try await client in tasks { opened.append(client) }
            return opened
        }
        _ = try await roundTrips(clients, count: active * 20)  // warm-up
        let started = ContinuousClock.now
        let latencies = try await roundTrips(clients, count: messages)
        let elapsed = seconds(started.duration(to: .now))
        let sorted = latencies.sorted()
        print(
            String(
                format: "round trips with %d active clients (and %d idle): %.0f messages/s, p50 %.2f ms, p99 %.2f ms (%d messages)",
                active, sockets.count, Double(sorted.count) / elapsed, sorted[sorted.count / 2] * 1000,
                sorted[Int(Double(sorted.count) * 0.99)] * 1000, sorted.count))

        for socket in sockets { try? await socket.close() }
        for client in clients { try? await client.socket.close() }

        let slowReaders = Int(options["--slow-readers"] ?? "10") ?? 10
        if slowReaders > 0 {
            try await slowReaderRun(
                url: url, readers: slowReaders, posts: Int(options["--posts"] ?? "4000") ?? 4000, pid: pid, group: group)
        }
        try await Task.sleep(for: .milliseconds(500))
        try await group.shutdownGracefully()
    }

    /// One client that awaits each reply in turn.
    final class Client: Sendable {
        let socket: WebSocket
        private let waiter = Mutex<CheckedContinuation<Void, any Error>?>(nil)
        init(socket: WebSocket) {
            self.socket = socket
            socket.onText { [weak self] _, _ in self?.waiter.withLock { $0.take() }?.resume() }
            socket.onClose.whenComplete { [weak self] _ in self?.waiter.withLock { $0.take() }?.resume(throwing: CancellationError()) }
        }

        /// Sends `whoami` and waits for the answer, at most 10 s.
        func roundTrip() async throws -> Double {
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await withCheckedThrowingContinuation { continuation in
                        self.waiter.withLock { $0 = continuation }
                        self.socket.send(#"{"action":"whoami"}"#)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(10))
                    throw CancellationError()
                }
                try await group.next()
                group.cancelAll()
            }
            return seconds(started.duration(to: .now))
        }
    }

    static func connect(_ url: String, group: any EventLoopGroup) async throws -> Client {
        let promise = group.next().makePromise(of: Client.self)
        WebSocket.connect(to: url, on: group) { socket in promise.succeed(Client(socket: socket)) }.whenFailure { promise.fail($0) }
        return try await promise.futureResult.get()
    }

    static func roundTrips(_ clients: [Client], count: Int) async throws -> [Double] {
        try await withThrowingTaskGroup(of: [Double].self) { group in
            for client in clients {
                group.addTask {
                    var latencies: [Double] = []
                    for _ in 0..<(count / clients.count) { latencies.append(try await client.roundTrip()) }
                    return latencies
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all
        }
    }

    /// Clients that stop reading once they know their connection id, and posts of 120 KB to them.
    static func slowReaderRun(url: String, readers: Int, posts: Int, pid: String?, group: any EventLoopGroup) async throws {
        guard let parsed = URL(string: url), let host = parsed.host, let port = parsed.port else { return }
        let pathParts = parsed.path.split(separator: "/")
        guard pathParts.count == 2 else { return }
        var ids: [String] = []
        var channels: [any Channel] = []
        for _ in 0..<readers {
            let (channel, id) = try await SlowReader.open(host: host, port: port, path: parsed.path, group: group)
            ids.append(id)
            channels.append(channel)
        }
        let rssBefore = pid.map(rss) ?? 0
        final class Tally: Sendable {
            let counts = Mutex((ok: 0, limited: 0, other: 0))
            let peak: Mutex<Double>
            init(_ rss: Double) { peak = Mutex(rss) }
        }
        let tally = Tally(rssBefore)
        let client = ManagementClient(
            httpClient: .shared,
            credentials: StaticCredentialProvider(
                Credential(accessKeyID: "AKIDLOCALDEVELOPMENT", secretAccessKey: "local-development-secret-key")),
            retry: .init(maxAttempts: 1))
        let endpoint = try ManagementEndpoint(url: "http://\(host):\(port)/\(pathParts[0])/\(pathParts[1])")
        let payload = ByteBuffer(repeating: 0x61, count: 120_000)
        let targets = ids
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for worker in 0..<8 {
                tasks.addTask {
                    for index in stride(from: worker, to: posts, by: 8) {
                        do {
                            try await client.post(payload, to: targets[index % targets.count], endpoint: endpoint, region: "us-east-1")
                            tally.counts.withLock { $0.ok += 1 }
                        } catch let error as AWSError where error.code == .limitExceeded {
                            tally.counts.withLock { $0.limited += 1 }
                        } catch {
                            tally.counts.withLock { $0.other += 1 }
                        }
                        if index % 50 == 0, let pid { let now = rss(pid); tally.peak.withLock { $0 = max($0, now) } }
                    }
                }
            }
            try await tasks.waitForAll()
        }
        let elapsed = seconds(started.duration(to: .now))
        let result = tally.counts.withLock { $0 }
        print(
            String(
                format:
                    "slow readers: %d clients not reading, %d posts of 120 KB in %.1f s: %d delivered to buffers, %d answered 429, %d other",
                readers, posts, elapsed, result.ok, result.limited, result.other))
        if pid != nil {
            print(String(format: "gateway RSS during the posts: %.1f MB before, %.1f MB at peak", rssBefore, tally.peak.withLock { $0 }))
        }
        for channel in channels { channel.close(promise: nil) }
    }

    static func rss(_ pid: String) -> Double {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// A raw client: it upgrades, asks `whoami` for its connection id, then stops reading.
enum SlowReader {
    final class Collector: ChannelInboundHandler, @unchecked Sendable {  // confined to its channel's event loop
        typealias InboundIn = ByteBuffer
        var bytes: [UInt8] = []
        let found: EventLoopPromise<String>
        var done = false
        init(found: EventLoopPromise<String>) { self.found = found }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            bytes += unwrapInboundIn(data).readableBytesView
            guard !done, let text = String(bytes: bytes, encoding: .utf8) ?? Optional(String(decoding: bytes, as: UTF8.self)),
                let range = text.range(of: #""connectionId":""#)
            else { return }
            let rest = text[range.upperBound...]
            guard let end = rest.firstIndex(of: "\"") else { return }
            done = true
            context.channel.setOption(.autoRead, value: false).whenComplete { _ in }
            found.succeed(String(rest[..<end]))
        }
        func channelInactive(context: ChannelHandlerContext) {
            if !done { found.fail(ChannelError.ioOnClosedChannel) }
        }
    }

    static func open(host: String, port: Int, path: String, group: any EventLoopGroup) async throws -> (any Channel, String) {
        let promise = group.next().makePromise(of: String.self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in channel.pipeline.addHandler(Collector(found: promise)) }
            .connect(host: host, port: port).get()
        let upgrade =
            "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let payload = Array(#"{"action":"whoami"}"#.utf8)
        let key: [UInt8] = [1, 2, 3, 4]
        let frame: [UInt8] = [0x81, 0x80 | UInt8(payload.count)] + key + payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
        try await channel.writeAndFlush(ByteBuffer(bytes: Array(upgrade.utf8) + frame))
        return (channel, try await promise.futureResult.get())
    }
}
