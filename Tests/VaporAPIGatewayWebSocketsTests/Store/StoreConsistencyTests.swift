import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Foundation
import Testing
import Vapor
import VaporAPIGatewayWebSockets
import VaporAPIGatewayWebSocketsTesting

/// 2,000 connects and disconnects at once, through the whole HTTP path: the store ends exactly
/// consistent, on SQLite and on PostgreSQL.
@Suite struct StoreConsistencyTests {
    struct Anyone: WebSocketController {
        let routeKey = RouteKey.default
        func handlers(_ handlers: inout HandlerRegistry) { handlers.onRaw("default") { _, _ in } }
    }

    func churn(_ app: Application) async throws {
        let gateway = WebSocketGateway(app: app, configuration: GatewayConfiguration(secrets: ["s3cret"]), poster: RecordingPoster())
        try gateway.register(Anyone())
        let api: APIID = "churnapi"
        try await gateway.registerGateway(GatewayRecord(apiID: api, stage: "dev", region: "us-east-1"))
        let fake = try FakeAPIGateway(app: app, apiID: api, stage: "dev", secret: "s3cret")
        let total = 2_000
        let ids = (0..<total).map { try! ConnectionID(String(format: "churn%05d=", $0)) }
        // 64 at a time: each connects, sends, and every other one disconnects again.
        try await withThrowingTaskGroup(of: Bool.self) { group in
            var next = 0
            func start(_ n: Int) {
                group.addTask {
                    let connection = try await fake.connect(query: ["channel": "room\(n % 7)"], connectionID: ids[n])
                    guard connection.isAccepted else { return false }
                    guard try await connection.send("hello").status == .ok else { return false }
                    if n % 2 == 0 { guard try await connection.disconnect().status == .ok else { return false } }
                    return true
                }
            }
            while next < min(64, total) { start(next); next += 1 }
            var succeeded = 0
            while let ok = try await group.next() {
                if ok { succeeded += 1 }
                if next < total { start(next); next += 1 }
            }
            #expect(succeeded == total, "every event answered 200: \(succeeded) of \(total)")
        }
        let store = gateway.dispatcher.store
        #expect(try await store.connectedCount(apiID: api) == total / 2, "exactly the odd ones are connected")
        var everyone: [ConnectionID] = []
        var after: ConnectionID?
        while true {
            let page = try await store.audience(.everyone, apiID: api, after: after, limit: 500)
            everyone += page
            guard let last = page.last, page.count == 500 else { break }
            after = last
        }
        #expect(everyone == ids.enumerated().filter { $0.offset % 2 == 1 }.map(\.element), "the connected ones, each once")
        let counts = try await store.channelCounts(apiID: api)
        #expect(counts.reduce(0) { $0 + $1.connections } == total / 2, "every live one in its one room: \(counts)")
        let sessions = try await store.sessions(SessionFilter(apiID: api), after: nil, limit: total + 10)
        #expect(
            sessions.count == total && sessions.allSatisfy { $0.requestCount == 1 }, "every session recorded once, its message counted once"
        )
    }

    @Test func twoThousandConcurrentConnectsAndDisconnectsOnSQLite() async throws {
        try await withSQLiteApp { app in try await churn(app) }
    }

    @Test func twoThousandConcurrentConnectsAndDisconnectsOnPostgreSQL() async throws {
        try await withPostgresApp { app in try await churn(app) }
    }
}
