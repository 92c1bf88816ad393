import APIGatewayWebSockets
import Foundation
public import SQLKit
public import Vapor

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

/// The app's web sessions (its logins) in its database, bounded: a session expires after
/// ``WebSessionPolicy/idleTimeout`` unused and ``WebSessionPolicy/absoluteTimeout`` after it began,
/// an expired one is never read and is swept (``purgeExpired(before:)``, which the cleanup
/// service runs); and a visitor who has not logged in stores nothing: a session with no data (an
/// unknown cookie, a page that only looked) is never written. Ids are 32 random bytes, stored as
/// their SHA-256, so a copy of the table opens no session.
///
/// ```swift
/// app.sessions.use(.database(store, policy: WebSessionPolicy(secureCookie: true)))
/// ```
public struct DatabaseWebSessions: AsyncSessionDriver {
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

    /// What was read, so an update that changes nothing within a minute of the last refresh
    /// writes nothing (a page's every request would otherwise be a write).
    private struct Read: StorageKey {
        typealias Value = (data: SessionData, createdAt: Date, expiresAt: Date)
    }

    public func createSession(_ data: SessionData, for request: Request) async throws -> SessionID {
        let id = SessionID(string: Self.newID())
        // Nothing to keep: the cookie names nothing, and the next request starts afresh.
        guard !data.snapshot.isEmpty else { return id }
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

    public func readSession(_ sessionID: SessionID, for request: Request) async throws -> SessionData? {
        guard
            let row = try await database().raw(
                """
                SELECT data, created_at, expires_at FROM \(ident: Self.table)
                WHERE key_hash = \(bind: Self.hash(sessionID)) AND expires_at > \(bind: now().milliseconds)
                """
            ).first()
        else { return nil }
        let data = try Self.decode(try row.decode(column: "data", as: String.self))
        request.storage[Read.self] = (
            data, Date(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            Date(milliseconds: try row.decode(column: "expires_at", as: Int64.self))
        )
        return data
    }

    public func updateSession(_ sessionID: SessionID, to data: SessionData, for request: Request) async throws -> SessionID {
        guard !data.snapshot.isEmpty else {
            try await deleteSession(sessionID, for: request)
            return sessionID
        }
        let date = now()
        let read = request.storage[Read.self]
        let createdAt = read?.createdAt ?? date
        let expiresAt = expiry(createdAt: createdAt, at: date)
        if let read, read.data == data, expiresAt.timeIntervalSince(read.expiresAt) < 60 { return sessionID }
        let updated = try await database().raw(
            """
            UPDATE \(ident: Self.table) SET data = \(bind: try Self.encode(data)), expires_at = \(bind: expiresAt.milliseconds)
            WHERE key_hash = \(bind: Self.hash(sessionID)) RETURNING key_hash
            """
        ).all()
        // Gone meanwhile (swept, or a logout elsewhere): the data lives on in a new session.
        return updated.isEmpty ? try await createSession(data, for: request) : sessionID
    }

    public func deleteSession(_ sessionID: SessionID, for request: Request) async throws {
        try await database().raw("DELETE FROM \(ident: Self.table) WHERE key_hash = \(bind: Self.hash(sessionID))").run()
    }

    /// Deletes the sessions that expired before `date`. Returns how many.
    public func purgeExpired(before date: Date) async throws -> Int {
        try await database().raw(
            "DELETE FROM \(ident: Self.table) WHERE expires_at < \(bind: date.milliseconds) RETURNING key_hash"
        ).all().count
    }

    /// How many sessions are stored, expired or not (for tests and the admin).
    public func count() async throws -> Int {
        try await database().raw("SELECT COUNT(*) AS n FROM \(ident: Self.table)").first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// The cookie the session id travels in: `HttpOnly`, `SameSite=Lax`, `Secure` when the policy
    /// says so, kept by the browser no longer than the session can last.
    public func cookie(for id: SessionID) -> HTTPCookies.Value {
        HTTPCookies.Value(
            string: id.string, maxAge: Int(policy.absoluteTimeout.components.seconds), path: "/", isSecure: policy.secureCookie,
            isHTTPOnly: true, sameSite: .lax)
    }

    private func expiry(createdAt: Date, at date: Date) -> Date {
        min(date.addingTimeInterval(policy.idleTimeout.timeInterval), createdAt.addingTimeInterval(policy.absoluteTimeout.timeInterval))
    }

    private static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func hash(_ id: SessionID) -> String { ConnectionTokens.hash(id.string) }

    private static func encode(_ data: SessionData) throws -> String {
        String(decoding: try JSONEncoder().encode(data.snapshot), as: UTF8.self)
    }

    private static func decode(_ text: String) throws -> SessionData {
        SessionData(initialData: try JSONDecoder().decode([String: String].self, from: Data(text.utf8)))
    }
}

extension Application.Sessions.Provider {
    /// Web sessions in the framework's table through `store`'s database (``DatabaseWebSessions``),
    /// with an `HttpOnly` cookie (`Secure` when `policy` says so). Run
    /// ``WebSocketMigrations/all`` first.
    public static func database(_ store: FluentConnectionStore, policy: WebSessionPolicy = WebSessionPolicy()) -> Self {
        .init { app in
            let driver = DatabaseWebSessions(database: { try store.sqlDatabase }, policy: policy)
            app.storage[DatabaseWebSessions.Key.self] = driver
            app.sessions.use { _ in driver }
            let cookieName = app.sessions.configuration.cookieName
            app.sessions.configuration = SessionsConfiguration(cookieName: cookieName, cookieFactory: driver.cookie(for:))
        }
    }
}

extension DatabaseWebSessions {
    struct Key: StorageKey { typealias Value = DatabaseWebSessions }
}

extension Application {
    /// The ``DatabaseWebSessions`` the app uses, once `app.sessions.use(.database(…))` chose it.
    public var databaseWebSessions: DatabaseWebSessions? { storage[DatabaseWebSessions.Key.self] }
}
