import APIGatewayAWS
public import APIGatewayWebSockets
public import Foundation
public import SQLKit

/// How long a web session (a login) lasts.
public struct WebSessionPolicy: Sendable, Hashable {
    /// A session not used for this long ends. Default 12 hours.
    public var idleTimeout: Duration
    /// No session lasts longer than this from its login, used or not. Default 7 days.
    public var absoluteTimeout: Duration
    /// Whether the cookie is `Secure` (sent over HTTPS only): say `true` whenever the pages are
    /// served over HTTPS, directly or behind a proxy that ends TLS. The cookie is always
    /// `HttpOnly` (no script reads it) and `SameSite=Lax`.
    public var secureCookie: Bool

    public init(
        idleTimeout: Duration = .seconds(12 * 3600), absoluteTimeout: Duration = .seconds(7 * 24 * 3600), secureCookie: Bool = false
    ) {
        self.idleTimeout = idleTimeout
        self.absoluteTimeout = absoluteTimeout
        self.secureCookie = secureCookie
    }
}

/// An app's web sessions (its logins) in the framework's table, for any web framework: Vapor's
/// session driver (`DatabaseWebSessions`) and Hummingbird's persist driver both keep their
/// sessions here.
///
/// Bounded: a session expires after ``WebSessionPolicy/idleTimeout`` unused and
/// ``WebSessionPolicy/absoluteTimeout`` after it began; an expired one is never read and is swept
/// (``purgeExpired(before:)``, which the cleanup runs). A session with no data is never written.
/// Ids are 32 random bytes, stored as their SHA-256, so a copy of the table opens no session.
public struct WebSessionStore: Sendable {
    /// A session as read: its data, when it began and when it ends.
    public struct Stored: Sendable, Hashable {
        public let data: [String: String]
        public let createdAt: Date
        public let expiresAt: Date
    }

    let database: @Sendable () throws -> any SQLDatabase
    public let policy: WebSessionPolicy
    let now: @Sendable () -> Date
    private static let table = CreateWebSessionTable.table

    /// - Parameters:
    ///   - database: the SQL database for one operation (the store's, so SQLite's one writer serves both).
    ///   - policy: how long a session lasts, and whether its cookie is `Secure`.
    ///   - now: the clock; injectable for tests.
    public init(
        database: @escaping @Sendable () throws -> any SQLDatabase, policy: WebSessionPolicy = WebSessionPolicy(),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.database = database
        self.policy = policy
        self.now = now
    }

    /// The sessions in `store`'s database.
    public init(store: FluentConnectionStore, policy: WebSessionPolicy = WebSessionPolicy()) {
        self.init(database: { try store.sqlDatabase }, policy: policy)
    }

    /// Stores `data` under a new id and returns the id; empty `data` is not stored (the id names
    /// nothing, and the next request starts afresh).
    public func create(_ data: [String: String]) async throws -> String {
        let id = Self.newID()
        guard !data.isEmpty else { return id }
        let created = now()
        try await database().raw(
            """
            INSERT INTO \(ident: Self.table) (key_hash, data, created_at, expires_at)
            VALUES (\(bind: Self.hash(id)), \(bind: try Self.encode(data)), \(bind: created.milliseconds),
                    \(bind: expiry(createdAt: created, at: created).milliseconds))
            """
        ).run()
        return id
    }

    /// The session `id` names, unless it is unknown or expired.
    public func read(_ id: String) async throws -> Stored? {
        guard
            let row = try await database().raw(
                """
                SELECT data, created_at, expires_at FROM \(ident: Self.table)
                WHERE key_hash = \(bind: Self.hash(id)) AND expires_at > \(bind: now().milliseconds)
                """
            ).first()
        else { return nil }
        return Stored(
            data: try Self.decode(try row.decode(column: "data", as: String.self)),
            createdAt: Date(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            expiresAt: Date(milliseconds: try row.decode(column: "expires_at", as: Int64.self)))
    }

    /// Stores `data` under `id` and pushes its expiry on; returns the id the session now has.
    /// Given what was `read` in this request, an update that changes nothing within a minute of
    /// the last refresh writes nothing (a page's every request would otherwise be a write). Empty
    /// `data` deletes the session; a session gone meanwhile (swept, or a logout elsewhere) lives on
    /// under a new id.
    public func update(_ id: String, to data: [String: String], read: Stored? = nil) async throws -> String {
        guard !data.isEmpty else {
            try await delete(id)
            return id
        }
        let date = now()
        let expiresAt = expiry(createdAt: read?.createdAt ?? date, at: date)
        if let read, read.data == data, expiresAt.timeIntervalSince(read.expiresAt) < 60 { return id }
        let updated = try await database().raw(
            """
            UPDATE \(ident: Self.table) SET data = \(bind: try Self.encode(data)), expires_at = \(bind: expiresAt.milliseconds)
            WHERE key_hash = \(bind: Self.hash(id)) RETURNING key_hash
            """
        ).all()
        return updated.isEmpty ? try await create(data) : id
    }

    /// Deletes the session `id` names (or the value under a key).
    public func delete(_ id: String) async throws {
        try await database().raw("DELETE FROM \(ident: Self.table) WHERE key_hash = \(bind: Self.hash(id))").run()
    }

    /// Deletes the sessions that expired before `date`. Returns how many.
    public func purgeExpired(before date: Date) async throws -> Int {
        try await database().raw(
            "DELETE FROM \(ident: Self.table) WHERE expires_at < \(bind: date.milliseconds) RETURNING key_hash"
        ).all().count
    }

    /// The cleanup's step that sweeps the expired sessions (``purgeExpired(before:)``).
    public var cleanupStep: Cleanup.Step { Cleanup.Step("expired web sessions") { try await purgeExpired(before: $0) } }

    /// How many sessions are stored, expired or not (for tests and the admin).
    public func count() async throws -> Int {
        try await database().raw("SELECT COUNT(*) AS n FROM \(ident: Self.table)").first()?.decode(column: "n", as: Int.self) ?? 0
    }

    // MARK: Values by key, for a framework's own session storage (Hummingbird's persist driver)

    /// Stores `json` under `key` until `expiresAt`, unless `key` holds a value that has not
    /// expired. Returns whether it stored it.
    public func insert(key: String, json: String, expiresAt: Date) async throws -> Bool {
        let date = now()
        return try await !database().raw(
            """
            INSERT INTO \(ident: Self.table) (key_hash, data, created_at, expires_at)
            VALUES (\(bind: Self.hash(key)), \(bind: json), \(bind: date.milliseconds), \(bind: expiresAt.milliseconds))
            ON CONFLICT (key_hash) DO UPDATE SET data = excluded.data, created_at = excluded.created_at, expires_at = excluded.expires_at
            WHERE \(ident: Self.table).expires_at <= \(bind: date.milliseconds)
            RETURNING key_hash
            """
        ).all().isEmpty
    }

    /// Stores `json` under `key`, replacing what it held. Without `expiresAt`, a value that has
    /// not expired keeps its expiry, and a new one lasts ``WebSessionPolicy/absoluteTimeout``.
    public func put(key: String, json: String, expiresAt: Date?) async throws {
        let date = now()
        let expiry = (expiresAt ?? date.addingTimeInterval(policy.absoluteTimeout.timeInterval)).milliseconds
        let kept: SQLQueryString =
            expiresAt == nil
            ? "CASE WHEN \(ident: Self.table).expires_at > \(bind: date.milliseconds) THEN \(ident: Self.table).expires_at ELSE excluded.expires_at END"
            : "excluded.expires_at"
        try await database().raw(
            """
            INSERT INTO \(ident: Self.table) (key_hash, data, created_at, expires_at)
            VALUES (\(bind: Self.hash(key)), \(bind: json), \(bind: date.milliseconds), \(bind: expiry))
            ON CONFLICT (key_hash) DO UPDATE SET data = excluded.data, expires_at = \(kept)
            """
        ).run()
    }

    /// What `key` holds and when it expires, unless it is unknown or expired.
    public func value(key: String) async throws -> (json: String, expiresAt: Date)? {
        guard
            let row = try await database().raw(
                """
                SELECT data, expires_at FROM \(ident: Self.table)
                WHERE key_hash = \(bind: Self.hash(key)) AND expires_at > \(bind: now().milliseconds)
                """
            ).first()
        else { return nil }
        return (try row.decode(column: "data", as: String.self), Date(milliseconds: try row.decode(column: "expires_at", as: Int64.self)))
    }

    private func expiry(createdAt: Date, at date: Date) -> Date {
        min(date.addingTimeInterval(policy.idleTimeout.timeInterval), createdAt.addingTimeInterval(policy.absoluteTimeout.timeInterval))
    }

    /// A new session id: 32 random bytes, base64url without padding.
    public static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func hash(_ id: String) -> String { ConnectionTokens.hash(id) }

    private static func encode(_ data: [String: String]) throws -> String {
        String(decoding: try JSONEncoder().encode(data), as: UTF8.self)
    }

    private static func decode(_ text: String) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
    }
}
