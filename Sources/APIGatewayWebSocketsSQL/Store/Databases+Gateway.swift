public import FluentKit
public import Logging
import NIOCore

// For an app without Vapor (a Hummingbird app, a worker, a command-line tool): FluentKit's
// `Databases` is the app's database pool and, as a swift-service-lifecycle `Service`, shuts down
// at the end of the app's `ServiceGroup`; these open the framework's store and run its migrations
// on it, as Vapor's `app.db` and `app.autoMigrate()` do for a Vapor app.

extension FluentConnectionStore {
    /// The store in `databases`' database `id` (its default when `nil`). An operation after the
    /// databases shut down fails with ``StoreError/unavailable(_:)``.
    public init(databases: Databases, id: DatabaseID? = nil, logger: Logger) {
        self.init(database: { try databases.gatewayDatabase(id, logger: logger) })
    }
}

extension Databases {
    /// Database `id` (the default when `nil`) for one operation, on one of the group's loops.
    /// - Throws: ``StoreError/unavailable(_:)`` once the databases have shut down.
    public func gatewayDatabase(_ id: DatabaseID? = nil, logger: Logger) throws -> any Database {
        guard let database = database(id, logger: logger, on: eventLoopGroup.any()) else {
            throw StoreError.unavailable("the databases have shut down")
        }
        return database
    }

    /// Prepares what `migrations` (by default the framework's tables, ``WebSocketMigrations/all``)
    /// have not prepared yet in database `id`, recording them in Fluent's `_fluent_migrations` as
    /// Vapor's `autoMigrate()` does, so either door may run them on the same database.
    public func migrateGateway(
        _ migrations: [any Migration] = WebSocketMigrations.all, on id: DatabaseID? = nil, logger: Logger
    ) async throws {
        let list = Migrations()
        list.add(migrations, to: id)
        let migrator = Migrator(databases: self, migrations: list, logger: logger, on: eventLoopGroup.any())
        try await migrator.setupIfNeeded().get()
        try await migrator.prepareBatch().get()
    }
}
