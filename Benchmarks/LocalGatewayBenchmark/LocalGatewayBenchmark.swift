// The local gateway under load, in three processes on loopback:
//
//   swift build -c release --product apigateway-local --product chat-example --product LocalGatewayBenchmark
//   CHAT_LOCAL_GATEWAY=off .build/release/chat-example serve --port 8080 &          # the backend
//   .build/release/apigateway-local --declare Benchmarks/LocalGatewayBenchmark/chat.json & # the gateway
//   .build/release/LocalGatewayBenchmark --gateway-pid $! --connections 10000
//
// Holds N idle client connections and reports the gateway's RSS per connection (from
// /proc/PID/status), then drives full round trips (client → gateway → backend → @connections →
// client, the chat example's `whoami`) from C clients in a closed loop and reports messages/s and
// p50/p99. Bounded in count and time.

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

    static func rss(_ pid: String) -> Double {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
