import APIGatewayWebSockets
import APIGatewayWebSocketsSQL
import APIGatewayWebSocketsTesting
import FluentKit
import FluentSQLiteDriver
import PeerSupport
import SQLKit
import Testing

@Suite struct FluentStoreConformanceTests {
    @Test(arguments: ConnectionStoreConformance.checks)
    func sqlite(_ check: ConnectionStoreConformance.Check) async throws {
        try await withSQLite { database in
            try await check.run(FluentConnectionStore { database.db })
        }
    }

    @Test(arguments: IdentityStoreConformance.checks)
    func sqliteIdentity(_ check: IdentityStoreConformance.Check) async throws {
        try await withSQLite { database in
            try await check.run(FluentConnectionStore { database.db })
        }
    }

    @Test(arguments: ChannelRuleStoreConformance.checks)
    func sqliteChannelRules(_ check: ChannelRuleStoreConformance.Check) async throws {
        try await withSQLite { database in
            try await check.run(FluentConnectionStore { database.db })
        }
    }

    /// The migrations keep the names Fluent recorded when they were the Vapor module's: a
    /// database migrated then would otherwise run them again and fail on its existing tables.
    @Test func theMigrationsKeepTheNamesTheyWereRecordedUnder() async throws {
        #expect(
            WebSocketMigrations.all.map(\.name) == [
                "VaporAPIGatewayWebSockets.CreateWebSocketTables", "VaporAPIGatewayWebSockets.CreateIdentityTables",
                "VaporAPIGatewayWebSockets.CreateChannelTables", "VaporAPIGatewayWebSockets.CreateWebSessionTable",
                "VaporAPIGatewayWebSockets.CreateAuditLogTable", "VaporAPIGatewayWebSockets.CreateStreamTables",
            ])
        // A database whose record says they ran: migrating again creates nothing and fails on nothing.
        try await withSQLite { database in
            try await database.databases.migrateGateway(logger: database.logger)
            let sql = try #require(database.db as? any SQLDatabase)
            let names = try await sql.raw("SELECT name FROM _fluent_migrations ORDER BY batch, name").all().map {
                try $0.decode(column: "name", as: String.self)
            }
            #expect(names.count == 6 && names.allSatisfy { $0.hasPrefix("VaporAPIGatewayWebSockets.") }, "\(names)")
        }
    }

    /// A database migrated before channels had their own table keeps each session's channel.
    @Test func theChannelMigrationKeepsEachSessionsChannel() async throws {
        let file = TemporaryDatabase()
        defer { file.cleanUp() }
        let databases = StoreDatabase.open()
        databases.use(.sqlite(.file(file.path)), as: .sqlite)
        let database = StoreDatabase(databases: databases)
        do {
            try await databases.migrateGateway([CreateWebSocketTables(), CreateIdentityTables()], logger: database.logger)
            let sql = try #require(database.db as? any SQLDatabase)
            try await sql.raw(
                """
                INSERT INTO apigw_sessions (connection_id, api_id, stage, channel, user_id, connected, request_count, created_at, updated_at)
                VALUES ('old-one=', 'oldapi1', 's', 'lobby', 'ada', true, 3, 1000, 2000), ('old-two=', 'oldapi1', 's', NULL, NULL, true, 0, 1000, 1000)
                """
            ).run()
            try await databases.migrateGateway([CreateWebSocketTables(), CreateIdentityTables(), CreateChannelTables()], logger: database.logger)
            let store = FluentConnectionStore(databases: databases, logger: database.logger)
            let api = APIID("oldapi1")
            #expect(try await store.channels(of: try ConnectionID("old-one="), apiID: api) == [ChannelName("lobby")])
            #expect(try await store.channels(of: try ConnectionID("old-two="), apiID: api).isEmpty)
            let session = try await store.touch(try ConnectionID("old-one="), apiID: api, at: .now)
            #expect(session?.userID == "ada" && session?.requestCount == 4 && session?.authStateHash == nil)
            await databases.shutdownAsync()
        } catch {
            await databases.shutdownAsync()
            throw error
        }
    }

    @Test(arguments: StreamStoreConformance.checks)
    func sqliteStreams(_ check: StreamStoreConformance.Check) async throws {
        try await withSQLite { database in try await check.run(FluentConnectionStore { database.db }) }
    }

    @Test(arguments: StreamStoreConformance.checks)
    func postgresStreams(_ check: StreamStoreConformance.Check) async throws {
        try await withPostgres { database in try await check.run(FluentConnectionStore { database.db }) }
    }

    @Test(arguments: ConnectionStoreConformance.checks)
    func postgres(_ check: ConnectionStoreConformance.Check) async throws {
        try await withPostgres { database in try await check.run(FluentConnectionStore { database.db }) }
    }

    @Test(arguments: IdentityStoreConformance.checks)
    func postgresIdentity(_ check: IdentityStoreConformance.Check) async throws {
        try await withPostgres { database in try await check.run(FluentConnectionStore { database.db }) }
    }

    @Test(arguments: ChannelRuleStoreConformance.checks)
    func postgresChannelRules(_ check: ChannelRuleStoreConformance.Check) async throws {
        try await withPostgres { database in try await check.run(FluentConnectionStore { database.db }) }
    }

    @Test func markGoneSplitsLongLists() async throws {
        try await withSQLite { database in
            let store = FluentConnectionStore { database.db }
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
