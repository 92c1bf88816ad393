import APIGatewayAWS
import APIGatewayWebSockets
import AsyncHTTPClient
import Foundation
import NIOCore
import PeerSupport
import Synchronization
import Testing

/// A fan-out through the real `@connections` client to a sink that misbehaves per connection:
/// throttled, failing, unavailable, slow past the deadline, resetting. Retries stay within the
/// deadline and the report counts every recipient once, as sent, gone or failed with its reason.
@Suite struct FanoutFaultTests {
    enum Fault: String, CaseIterable {
        case ok, gone, throttledOnce, failsOnce, unavailable, slow, resets
    }

    @Test func everyRecipientIsCountedOnceWithItsReason() async throws {
        let attempts = Mutex<[String: Int]>([:])
        let sink = try await LoopbackServer { request in
            // /@connections/{fault}-{n}
            let id = String(request.uri.split(separator: "/").last ?? "").removingPercentEncoding ?? ""
            let fault = Fault(rawValue: String(id.split(separator: "-").first ?? "")) ?? .ok
            let attempt = attempts.withLock { counts in
                counts[id, default: 0] += 1
                return counts[id]!
            }
            switch fault {
            case .ok: return .init(status: 200)
            case .gone: return .init(status: 410, body: #"{"message":"Gone"}"#)
            case .throttledOnce: return attempt == 1 ? .init(status: 429, body: #"{"message":"Too Many Requests"}"#) : .init(status: 200)
            case .failsOnce: return attempt == 1 ? .init(status: 500, body: #"{"message":"Internal"}"#) : .init(status: 200)
            case .unavailable: return .init(status: 503, body: #"{"message":"Service Unavailable"}"#)
            case .slow:
                try? await Task.sleep(for: .seconds(40))
                return .init(status: 200)
            case .resets: return .resetConnection
            }
        }
        defer { Task { try? await sink.close() } }
        let http = ManagementClient.makeHTTPClient(maximumConnections: 16)
        defer { Task { try? await http.shutdown() } }
        // Seconds, not milliseconds: under CI's load a first answer took 2 s, and a retry that
        // would start past the deadline is never made (the 429 was then reported failed). A full
        // run on a loaded machine once took past 6 s for the first answers: 20 s.
        let deadline = Duration.seconds(20)
        // Long enough that a loaded machine answers a 410 inside it (a timeout is retried, and
        // the 410 would be asked twice), short enough that `slow` (40 s) fails by the deadline.
        let attemptTimeout = Duration.seconds(12)
        let client = ManagementClient(
            httpClient: http, credentials: StaticCredentialProvider(Credential(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret")),
            timeout: .milliseconds(Int64(attemptTimeout / .milliseconds(1))),
            retry: ManagementClient.RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(20), deadline: deadline))
        let store = InMemoryConnectionStore()
        let api = APIID("faultapi")
        let room = ChannelName("room")
        var expected: [Fault: [ConnectionID]] = [:]
        for fault in Fault.allCases {
            for n in 0..<3 {
                let id = try ConnectionID("\(fault.rawValue)-\(n)")
                _ = try await store.connect(Session(connectionID: id, apiID: api, stage: "dev", createdAt: Date()), joining: room)
                expected[fault, default: []].append(id)
            }
        }
        let record = GatewayRecord(
            apiID: api, stage: "dev", region: "us-east-1",
            managementEndpoint: ManagementEndpoint(scheme: "http", host: "127.0.0.1", port: sink.port, basePath: ""))
        let messenger = Messenger(store: store, poster: client)
        let report = try await messenger.send(try Payload(text: "hello"), to: .channel(room), on: record)

        #expect(report.attempted == 21, "every recipient once: \(report)")
        #expect(report.sent == 9, "ok, and the throttled and failed ones on their retry: \(report)")
        #expect(Set(report.gone) == Set(expected[.gone]!), "gone: \(report.gone)")
        let failed = Set(report.failures.map(\.connectionID))
        #expect(failed == Set(expected[.unavailable]! + expected[.slow]! + expected[.resets]!), "failed: \(report.failures)")
        #expect(report.failures.allSatisfy { !$0.reason.isEmpty }, "each with its reason")
        let counts = attempts.withLock { $0 }
        // No attempt starts after the deadline, whatever the machine's load: `slow` times out at
        // 12 s, its second attempt at 24 s, past the 20 s deadline, so there is no third (without
        // the deadline there are four).
        #expect(expected[.slow]!.allSatisfy { (counts[$0.rawValue] ?? 0) <= 2 }, "retries end by the deadline: \(counts)")
        #expect(expected[.throttledOnce]!.allSatisfy { counts[$0.rawValue] == 2 }, "429 retried once: \(counts)")
        #expect(expected[.unavailable]!.allSatisfy { (counts[$0.rawValue] ?? 0) > 1 && counts[$0.rawValue]! <= 4 }, "503 retried, bounded")
        #expect(expected[.gone]!.allSatisfy { counts[$0.rawValue] == 1 }, "410 not retried")
        #expect(try await store.connectedCount(apiID: api) == 18, "the gone ones are marked, once")
    }
}
