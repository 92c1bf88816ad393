import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import ChatApp
import Foundation
import HTTPTypes
import NIOCore
import Prometheus
import Testing
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

/// `GET /metrics` after known traffic: the numbers are the traffic's.
@Suite struct MetricsTests {
    /// swift-metrics can be bootstrapped once per process.
    static let registry = ChatMetrics.bootstrap()

    /// `name{labels} value` lines of the Prometheus text format.
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    static func samples(_ text: String) -> [Sample] {
        text.split(separator: "\n").compactMap { line -> Sample? in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                return nil
            }
            let series = line[..<space]
            guard let open = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
            var labels: [String: String] = [:]
            for pair in series[series.index(after: open)..<series.index(before: series.endIndex)].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { labels[String(parts[0])] = String(parts[1].dropFirst().dropLast()) }
            }
            return Sample(name: String(series[..<open]), labels: labels, value: value)
        }
    }

    @Test func theMetricsCountKnownTraffic() async throws {
        let registry = Self.registry
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) } }
        let api = try APIID("metrics" + String(UInt32.random(in: 0...UInt32.max), radix: 36))
        var settings = ChatSettings(databasePath: database)
        settings.gateway = GatewayRecord(apiID: api, stage: "local", region: "us-east-1")
        let app = try await Application.make(.testing)
        do {
            try await configureChat(app, settings: settings, poster: RecordingPoster(), metrics: registry)
            let browser = try await AdminPagesTests.Browser.loggedIn(app, "ada")
            var headers = HTTPFields()
            headers[.cookie] = browser.cookie
            headers[.origin] = "http://127.0.0.1:8080"
            let fake = try FakeAPIGateway(app: app, apiID: api, stage: "local", secret: settings.secret)
            let first = try await fake.connect(query: ["channel": "lobby"], headers: headers)
            let second = try await fake.connect(query: ["channel": "lobby"], headers: headers)
            for _ in 0..<3 { #expect(try await first.send(#"{"action":"whoami"}"#).status == .ok) }
            #expect(try await first.send(#"{"action":"sendmessage","channel":"lobby","text":"counted"}"#).status == .ok)
            #expect(try await first.send(#"{"action":"announce","text":"x"}"#).status == .forbidden)
            #expect(try await second.disconnect().status == .ok)
            _ = try await browser.request(.post, "/ws/token")

            let scraped = try await browser.request(.get, "/metrics")
            #expect(scraped.status == .ok)
            let samples = Self.samples(String(buffer: scraped.body))
            func events(_ event: String, _ route: String, _ outcome: String) -> Double? {
                samples.first {
                    $0.name == "apigw_events_total"
                        && $0.labels == ["api": api.rawValue, "event": event, "route": route, "outcome": outcome]
                }?.value
            }
            #expect(events("connect", "$connect", "handled") == 2)
            #expect(events("message", "$default", "handled") == 4)
            #expect(events("message", "$default", "permission_denied") == 1, "a refusal is counted by its code")
            #expect(events("disconnect", "$disconnect", "handled") == 1)
            #expect(samples.first { $0.name == "apigw_live_sessions" }?.value == 1, "the live sessions, read from the store")
            let whoami = samples.first { $0.name == "apigw_handler_duration_seconds_count" && $0.labels["handler"] == "whoami" }
            #expect((whoami?.value ?? 0) >= 3, "the handler timer")
            #expect(samples.contains { $0.name == "apigw_store_duration_seconds_count" && $0.labels["operation"] == "touch" })
            #expect((samples.first { $0.name == "apigw_fanout_posts_total" && $0.labels["result"] == "sent" }?.value ?? 0) >= 3)
            #expect((samples.first { $0.name == "apigw_tokens_total" && $0.labels["outcome"] == "issued" }?.value ?? 0) >= 1)
            // The stream: one published and delivered by its publisher; the store's sizes at the scrape
            // (gauges are process-wide, so another suite's store may have set them last: only their presence).
            #expect((samples.first { $0.name == "apigw_stream_published_total" }?.value ?? 0) >= 1)
            #expect((samples.first { $0.name == "apigw_stream_deliveries_total" && $0.labels["by"] == "publisher" }?.value ?? 0) >= 1)
            for gauge in ["apigw_streams", "apigw_stream_messages", "apigw_stream_outbox_depth", "apigw_stream_outbox_oldest_seconds"] {
                #expect(samples.contains { $0.name == gauge }, "\(gauge)")
            }

            // From another machine, without an administrator's login: refused.
            let stranger = Request(
                application: app, method: .GET, url: URI(string: "/metrics"), headers: [:], collectedBody: nil,
                remoteAddress: try SocketAddress(ipAddress: "10.1.2.3", port: 4000), on: app.eventLoopGroup.any())
            #expect(try await app.responder.respond(to: stranger).get().status == .forbidden)
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}
