public import APIGatewayWebSockets
public import FluentKit
import Foundation

/// A tracked connection, as a Fluent model of the `apigw_sessions` table.
///
/// The framework reads and writes sessions through ``FluentConnectionStore``, with single SQL
/// statements; the model is for your own queries and admin screens. Times are milliseconds since
/// 1970, which SQLite and PostgreSQL store and compare alike.
public final class SessionModel: Model, @unchecked Sendable {  // Fluent models are reference types with property wrappers.
    public static let schema = "apigw_sessions"

    @ID(custom: "connection_id", generatedBy: .user) public var id: String?
    @Field(key: "api_id") public var apiID: String
    @Field(key: "stage") public var stage: String
    @OptionalField(key: "user_id") public var userID: String?
    @OptionalField(key: "web_session_hash") public var webSessionHash: String?
    @OptionalField(key: "auth_state_hash") public var authStateHash: String?
    @Field(key: "connected") public var connected: Bool
    @Field(key: "request_count") public var requestCount: Int
    @Field(key: "created_at") public var createdAtMilliseconds: Int64
    @Field(key: "updated_at") public var updatedAtMilliseconds: Int64

    public init() {}

    /// The session this row records.
    /// - Throws: `IdentifierError` when a stored id is not valid.
    public func session() throws -> Session {
        try Session(
            stored: id ?? "", apiID: apiID, stage: stage, userID: userID, webSessionHash: webSessionHash, authStateHash: authStateHash,
            connected: connected,
            requestCount: requestCount, createdAt: createdAtMilliseconds, updatedAt: updatedAtMilliseconds)
    }
}

extension Session {
    /// A session from the columns of its `apigw_sessions` row, however they were read (the
    /// model, or a raw statement): ids validated, times from milliseconds.
    /// - Throws: ``IdentifierError`` when a stored id is not valid.
    init(
        stored connectionID: String, apiID: String, stage: String, userID: String?, webSessionHash: String?, authStateHash: String?,
        connected: Bool,
        requestCount: Int, createdAt: Int64, updatedAt: Int64
    ) throws {
        self.init(
            connectionID: try ConnectionID(connectionID), apiID: try APIID(apiID), stage: stage,
            userID: userID, webSessionHash: webSessionHash, authStateHash: authStateHash, connected: connected,
            requestCount: requestCount,
            createdAt: Date(milliseconds: createdAt), updatedAt: Date(milliseconds: updatedAt))
    }
}

extension Date {
    init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }
    var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
}
