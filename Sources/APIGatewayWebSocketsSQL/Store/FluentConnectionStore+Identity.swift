import APIGatewayAWS
public import APIGatewayWebSockets
public import Foundation
import SQLKit

/// Tokens and rate-limit hits, each method one statement. Run ``CreateIdentityTables`` first.
///
/// A hit is an `INSERT … SELECT … WHERE (count in the window) < limit`: atomic on SQLite, whose
/// writes are serialized; on PostgreSQL it runs under the key's advisory lock, in a transaction
/// (under READ COMMITTED two transactions could otherwise both see room).
extension FluentConnectionStore: IdentityStore {
    private static let tokens = CreateIdentityTables.tokens
    private static let hits = CreateIdentityTables.hits

    public func issue(_ token: ConnectionToken) async throws {
        try await sqlDatabase.raw(
            """
            INSERT INTO \(ident: Self.tokens) (token_hash, user_id, session_hash, auth_state_hash, created_at, expires_at)
            VALUES (\(bind: token.hash), \(bind: token.userID), \(bind: token.sessionHash), \(bind: token.authStateHash),
                    \(bind: token.createdAt.milliseconds), \(bind: token.expiresAt.milliseconds))
            """
        ).run()
    }

    public func token(hash: String, at date: Date) async throws -> ConnectionToken? {
        try await sqlDatabase.raw(
            """
            SELECT token_hash, user_id, session_hash, auth_state_hash, created_at, expires_at FROM \(ident: Self.tokens)
            WHERE token_hash = \(bind: hash) AND used_at IS NULL AND expires_at > \(bind: date.milliseconds)
            """
        ).first().map(Self.token(from:))
    }

    public func consumeToken(hash: String, at date: Date) async throws -> ConnectionToken? {
        try await sqlDatabase.raw(
            """
            UPDATE \(ident: Self.tokens) SET used_at = \(bind: date.milliseconds)
            WHERE token_hash = \(bind: hash) AND used_at IS NULL AND expires_at > \(bind: date.milliseconds)
            RETURNING token_hash, user_id, session_hash, auth_state_hash, created_at, expires_at
            """
        ).first().map(Self.token(from:))
    }

    private static func token(from row: any SQLRow) throws -> ConnectionToken {
        ConnectionToken(
            hash: try row.decode(column: "token_hash", as: String.self), userID: try row.decode(column: "user_id", as: String.self),
            sessionHash: try row.decode(column: "session_hash", as: String.self),
            authStateHash: try row.decode(column: "auth_state_hash", as: String?.self),
            createdAt: Date(milliseconds: try row.decode(column: "created_at", as: Int64.self)),
            expiresAt: Date(milliseconds: try row.decode(column: "expires_at", as: Int64.self)))
    }

    public func purgeTokens(expiredBefore date: Date) async throws -> Int {
        try await sqlDatabase.raw(
            "DELETE FROM \(ident: Self.tokens) WHERE expires_at < \(bind: date.milliseconds) RETURNING token_hash"
        ).all().count
    }

    public func hit(_ key: String, at date: Date, window: Duration, limit: Int) async throws -> Bool {
        let start = date.addingTimeInterval(-window.timeInterval)
        let hits = Self.hits
        return try await serialized(on: "hit " + key) { sql in
            try await !Self.countHit(key, at: date, after: start, limit: limit, table: hits, on: sql).isEmpty
        }
    }

    private static func countHit(_ key: String, at date: Date, after start: Date, limit: Int, table: String, on sql: any SQLDatabase)
        async throws -> [any SQLRow]
    {
        try await sql.raw(
            """
            INSERT INTO \(ident: table) (key, at)
            SELECT \(bind: key), \(bind: date.milliseconds)
            WHERE (SELECT COUNT(*) FROM \(ident: table) WHERE key = \(bind: key) AND at > \(bind: start.milliseconds)) < \(bind: limit)
            RETURNING key
            """
        ).all()
    }

    public func liveTokens(at date: Date, limit: Int) async throws -> [ConnectionToken] {
        try await sqlDatabase.raw(
            """
            SELECT token_hash, user_id, session_hash, auth_state_hash, created_at, expires_at FROM \(ident: Self.tokens)
            WHERE used_at IS NULL AND expires_at > \(bind: date.milliseconds)
            ORDER BY created_at DESC, token_hash DESC LIMIT \(unsafeRaw: String(max(0, limit)))
            """
        ).all().map(Self.token(from:))
    }

    public func revokeToken(hash: String) async throws -> Bool {
        // Revoked is used: the consume statement then finds nothing, whoever holds the token.
        try await !sqlDatabase.raw(
            """
            UPDATE \(ident: Self.tokens) SET used_at = \(bind: Date().milliseconds)
            WHERE token_hash = \(bind: hash) AND used_at IS NULL RETURNING token_hash
            """
        ).all().isEmpty
    }

    public func revokeTokens(ofWebSession sessionHash: String) async throws -> Int {
        guard !sessionHash.isEmpty else { return 0 }
        return try await sqlDatabase.raw(
            """
            UPDATE \(ident: Self.tokens) SET used_at = \(bind: Date().milliseconds)
            WHERE session_hash = \(bind: sessionHash) AND used_at IS NULL RETURNING token_hash
            """
        ).all().count
    }

    public func hitCounts(after date: Date, limit: Int) async throws -> [HitCount] {
        try await sqlDatabase.raw(
            """
            SELECT key, COUNT(*) AS hits, MAX(at) AS latest FROM \(ident: Self.hits) WHERE at > \(bind: date.milliseconds)
            GROUP BY key ORDER BY hits DESC, key LIMIT \(unsafeRaw: String(max(0, limit)))
            """
        ).all().map { row in
            HitCount(
                key: try row.decode(column: "key", as: String.self), hits: try row.decode(column: "hits", as: Int.self),
                latest: Date(milliseconds: try row.decode(column: "latest", as: Int64.self)))
        }
    }

    public func clearHits(key: String) async throws -> Int {
        try await sqlDatabase.raw("DELETE FROM \(ident: Self.hits) WHERE key = \(bind: key) RETURNING key").all().count
    }

    public func purgeHits(before date: Date) async throws -> Int {
        try await sqlDatabase.raw("DELETE FROM \(ident: Self.hits) WHERE at < \(bind: date.milliseconds) RETURNING key").all().count
    }
}
