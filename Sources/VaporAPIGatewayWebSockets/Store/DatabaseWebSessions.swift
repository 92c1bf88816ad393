import APIGatewayWebSockets
public import APIGatewayWebSocketsSQL
import Foundation
public import SQLKit
public import Vapor

/// The app's web sessions (its logins) in its database, bounded: a session expires after
/// `WebSessionPolicy.idleTimeout` unused and `WebSessionPolicy.absoluteTimeout` after it began,
/// an expired one is never read and is swept (``purgeExpired(before:)``, which the cleanup
/// service runs); and a visitor who has not logged in stores nothing: a session with no data (an
/// unknown cookie, a page that only looked) is never written. Ids are 32 random bytes, stored as
/// their SHA-256, so a copy of the table opens no session.
///
/// ```swift
/// app.sessions.use(.database(store, policy: WebSessionPolicy(secureCookie: true)))
/// ```
public struct DatabaseWebSessions: AsyncSessionDriver {
    /// Where the sessions are: the framework's table, shared with any other door.
    public let store: WebSessionStore
    public var policy: WebSessionPolicy { store.policy }

    /// - Parameters:
    ///   - database: the SQL database for one operation (the store's, so SQLite's one writer serves both).
    ///   - policy: how long a session lasts, and whether its cookie is `Secure`.
    ///   - now: the clock; injectable for tests.
    public init(
        database: @escaping @Sendable () throws -> any SQLDatabase, policy: WebSessionPolicy = WebSessionPolicy(),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        store = WebSessionStore(database: database, policy: policy, now: now)
    }

    /// What was read, so that `WebSessionStore.update(_:to:read:)` can skip a write that
    /// changes nothing.
    private struct Read: StorageKey {
        typealias Value = WebSessionStore.Stored
    }

    public func createSession(_ data: SessionData, for request: Request) async throws -> SessionID {
        SessionID(string: try await store.create(data.snapshot))
    }

    public func readSession(_ sessionID: SessionID, for request: Request) async throws -> SessionData? {
        guard let stored = try await store.read(sessionID.string) else { return nil }
        request.storage[Read.self] = stored
        return SessionData(initialData: stored.data)
    }

    public func updateSession(_ sessionID: SessionID, to data: SessionData, for request: Request) async throws -> SessionID {
        SessionID(string: try await store.update(sessionID.string, to: data.snapshot, read: request.storage[Read.self]))
    }

    public func deleteSession(_ sessionID: SessionID, for request: Request) async throws {
        try await store.delete(sessionID.string)
    }

    /// Deletes the sessions that expired before `date`. Returns how many.
    public func purgeExpired(before date: Date) async throws -> Int { try await store.purgeExpired(before: date) }

    /// How many sessions are stored, expired or not (for tests and the admin).
    public func count() async throws -> Int { try await store.count() }

    /// The cookie the session id travels in: `HttpOnly`, `SameSite=Lax`, `Secure` when the policy
    /// says so, kept by the browser no longer than the session can last.
    public func cookie(for id: SessionID) -> HTTPCookies.Value {
        HTTPCookies.Value(
            string: id.string, maxAge: Int(policy.absoluteTimeout.components.seconds), path: "/", isSecure: policy.secureCookie,
            isHTTPOnly: true, sameSite: .lax)
    }
}

extension Application.Sessions.Provider {
    /// Web sessions in the framework's table through `store`'s database (``DatabaseWebSessions``),
    /// with an `HttpOnly` cookie (`Secure` when `policy` says so). Run
    /// `WebSocketMigrations.all` first.
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
