import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Fluent
import FluentSQLiteDriver
import PeerSupport
import SQLKit
import Testing
import Vapor
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

    @Test(arguments: ChannelRuleStoreConformance.checks)
    func sqliteChannelRules(_ check: ChannelRuleStoreConformance.Check) async throws {
        try await withSQLiteApp { app in
            try await check.run(FluentConnectionStore { app.db })
        }
    }

    /// A database migrated before channels had their own table keeps each session's channel.
    @Test func theChannelMigrationKeepsEachSessionsChannel() async throws {
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let app = try await Application.make(.testing)
        do {
            app.databases.use(.sqlite(.file(database.path)), as: .sqlite)
            app.migrations.add(CreateWebSocketTables(), CreateIdentityTables())
            try await app.autoMigrate()
            let sql = try #require(app.db as? any SQLDatabase)
            try await sql.raw(
                """
                INSERT INTO apigw_sessions (connection_id, api_id, stage, channel, user_id, connected, request_count, created_at, updated_at)
                VALUES ('old-one=', 'oldapi1', 's', 'lobby', 'ada', true, 3, 1000, 2000), ('old-two=', 'oldapi1', 's', NULL, NULL, true, 0, 1000, 1000)
                """
            ).run()
            app.migrations.add(CreateChannelTables())
            try await app.autoMigrate()
            let store = FluentConnectionStore { app.db }
            let api = APIID("oldapi1")
            #expect(try await store.channels(of: try ConnectionID("old-one="), apiID: api) == [ChannelName("lobby")])
            #expect(try await store.channels(of: try ConnectionID("old-two="), apiID: api).isEmpty)
            let session = try await store.touch(try ConnectionID("old-one="), apiID: api, at: .now)
            #expect(session?.userID == "ada" && session?.requestCount == 4 && session?.authStateHash == nil)
            try await app.autoRevert()
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    @Test(arguments: StreamStoreConformance.checks)
    func sqliteStreams(_ check: StreamStoreConformance.Check) async throws {
        try await withSQLiteApp { app in try await check.run(FluentConnectionStore { app.db }) }
    }

    @Test(arguments: StreamStoreConformance.checks)
    func postgresStreams(_ check: StreamStoreConformance.Check) async throws {
        try await withPostgresApp { app in try await check.run(FluentConnectionStore { app.db }) }
    }

    @Test(arguments: ConnectionStoreConformance.checks)
    func postgres(_ check: ConnectionStoreConformance.Check) async throws {
        try await withPostgresApp { app in try await check.run(FluentConnectionStore { app.db }) }
    }

    @Test(arguments: IdentityStoreConformance.checks)
    func postgresIdentity(_ check: IdentityStoreConformance.Check) async throws {
        try await withPostgresApp { app in try await check.run(FluentConnectionStore { app.db }) }
    }

    @Test(arguments: ChannelRuleStoreConformance.checks)
    func postgresChannelRules(_ check: ChannelRuleStoreConformance.Check) async throws {
        try await withPostgresApp { app in try await check.run(FluentConnectionStore { app.db }) }
    }

    @Test func markGoneSplitsLongLists() async throws {
        try await withSQLiteApp { app in
            let store = FluentConnectionStore { app.db }
            let api = APIID("bulk1")
            var ids: [ConnectionID] = []
            for n in 0..<1_203 {
                let id = try ConnectionID("bulk\(n)")
                ids.append(id)
                _ = try await store.connect(Session(connectionID: id, apiID: api, stage: "s", createdAt: .now), joining: nil)
            }
            #expect(try await store.markGone(ids, apiID: api, at: .now) == 1_203)
            #expect(try await store.audience(.everyone, apiID: api, after: nil, limit: 10).isEmpty)
        }
    }
}
