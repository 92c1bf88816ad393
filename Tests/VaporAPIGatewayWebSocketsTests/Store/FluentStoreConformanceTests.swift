import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Fluent
import Testing
import VaporAPIGatewayWebSockets

@Suite struct FluentStoreConformanceTests {
    @Test(arguments: ConnectionStoreConformance.checks)
    func sqlite(_ check: ConnectionStoreConformance.Check) async throws {
        try await withSQLiteApp { app in
            try await check.run(FluentConnectionStore { app.db })
        }
    }

    @Test(arguments: IdentityStoreConformance.checks)
    func sqliteIdentity(_ check: IdentityStoreConformance.Check) async throws {
        try await withSQLiteApp { app in
            try await check.run(FluentConnectionStore { app.db })
        }
    }

    @Test func markGoneSplitsLongLists() async throws {
        try await withSQLiteApp { app in
            let store = FluentConnectionStore { app.db }
            let api = try APIID("bulk1")
            var ids: [ConnectionID] = []
            for n in 0..<1_203 {
                let id = try ConnectionID("bulk\(n)")
                ids.append(id)
                _ = try await store.connect(Session(connectionID: id, apiID: api, stage: "s", createdAt: .now))
            }
            #expect(try await store.markGone(ids, apiID: api, at: .now) == 1_203)
            #expect(try await store.audience(.everyone, apiID: api, after: nil, limit: 10).isEmpty)
        }
    }
}
