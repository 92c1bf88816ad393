public import Foundation
public import SQLKit

/// One write an administrator made: when, who, what (`rules`, `send`, `gateways/chat/apply` …),
/// on what (the channel, the connection, the gateway …), and how it ended (`ok`, or the refusal
/// or failure with its status).
public struct AuditEntry: Sendable, Hashable {
    public var at: Date
    public var actor: String
    public var action: String
    public var target: String
    public var outcome: String

    public init(at: Date, actor: String, action: String, target: String, outcome: String) {
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.outcome = outcome
    }
}

/// The admin's writes, kept in the database as the Python package's admin keeps its log entries:
/// every instance writes to and reads the same log. Run ``WebSocketMigrations/all`` first.
public struct AuditLog: Sendable {
    let database: @Sendable () throws -> any SQLDatabase
    private static let table = CreateAuditLogTable.table

    /// - Parameter database: the SQL database for one operation (the store's).
    public init(database: @escaping @Sendable () throws -> any SQLDatabase) {
        self.database = database
    }

    /// Records `entry`; each value is cut to 512 characters.
    public func record(_ entry: AuditEntry) async throws {
        func cut(_ text: String) -> String { String(text.prefix(512)) }
        try await database().raw(
            """
            INSERT INTO \(ident: Self.table) (at, actor, action, target, outcome)
            VALUES (\(bind: Int64((entry.at.timeIntervalSince1970 * 1000).rounded())), \(bind: cut(entry.actor)), \(bind: cut(entry.action)),
                    \(bind: cut(entry.target)), \(bind: cut(entry.outcome)))
            """
        ).run()
    }

    /// The latest `limit` entries, newest first.
    public func latest(_ limit: Int = 100) async throws -> [AuditEntry] {
        try await database().raw(
            """
            SELECT at, actor, action, target, outcome FROM \(ident: Self.table)
            ORDER BY at DESC LIMIT \(unsafeRaw: String(max(0, limit)))
            """
        ).all().map { row in
            AuditEntry(
                at: Date(timeIntervalSince1970: Double(try row.decode(column: "at", as: Int64.self)) / 1000),
                actor: try row.decode(column: "actor", as: String.self), action: try row.decode(column: "action", as: String.self),
                target: try row.decode(column: "target", as: String.self), outcome: try row.decode(column: "outcome", as: String.self))
        }
    }
}
