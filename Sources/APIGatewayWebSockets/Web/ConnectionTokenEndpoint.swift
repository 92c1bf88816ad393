import Foundation
public import HTTPTypes
public import Logging
import Metrics
import NIOCore

/// The token endpoint's work, for either door: a logged-in user's one-time connection token,
/// `{"token": "…", "expiresAt": "…"}`, to connect with `?ws_token=` (issued by
/// ``ConnectionTokens``). Refused 401 without a login or with one that no longer holds, 403 for
/// a cross-site request (``CrossSiteWrite``), 429 past the per-user limit, 503 when the store is
/// away. Each outcome is counted in `apigw_tokens_total{outcome}`.
public struct ConnectionTokenEndpoint: Sendable {
    let dispatcher: GatewayDispatcher
    let tokens: ConnectionTokens

    /// - Throws: ``ConnectionTokenEndpointError`` when the dispatcher's store keeps no tokens.
    public init(dispatcher: GatewayDispatcher, lifetime: Duration = .seconds(60), perUserPerMinute: Int = 10) throws {
        guard let identity = dispatcher.identity else { throw ConnectionTokenEndpointError.noIdentityStore }
        self.dispatcher = dispatcher
        self.tokens = ConnectionTokens(store: identity, lifetime: lifetime, perUserPerMinute: perUserPerMinute)
    }

    /// The answer to one `POST`, with the headers the cross-site check reads, the request's host
    /// (its `Host` header, or the HTTP/2-style authority a framework moved it to), and the user
    /// the app's login found.
    public func respond(headerFields: HTTPFields, host: String?, user: AuthenticatedUser?, logger: Logger) async -> GatewayResponse {
        if let refused = CrossSiteWrite.of(
            secFetchSite: headerFields[HTTPField.Name("Sec-Fetch-Site")!], origin: headerFields[.origin],
            host: host ?? headerFields[HTTPField.Name("Host")!], configuration: dispatcher.configuration)
        {
            return Self.count(refused.code, .problem(.forbidden, refused.reason))
        }
        guard let user else { return Self.count("not_logged_in", .problem(.unauthorized, "Not logged in")) }
        do {
            // The login must still hold: a web session opened before a password change, a
            // deactivation or a demotion mints no token.
            guard try await dispatcher.loginHolds(user) else {
                return Self.count(Refusal.Code.loginExpired.rawValue, .problem(.unauthorized, "Login no longer valid: log in again"))
            }
            let issued = try await tokens.issue(userID: user.id, webSessionID: user.webSessionID, authStateHash: user.authStateHash)
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            return Self.count(
                "issued",
                GatewayResponse(
                    status: .ok, headerFields: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                    body: ByteBuffer(data: try encoder.encode(issued))))
        } catch let refusal as Refusal {
            return Self.count(refusal.code.rawValue, .problem(refusal.status, refusal.reason))
        } catch {
            // Past the login, only the store can fail here: a fast 503 the page may retry, with the
            // driver's words in the log, never in the answer.
            logger.error("token not issued", metadata: ["apigw.error": "\(LogValue(String(reflecting: error)))"])
            return Self.count(Refusal.Code.storeUnavailable.rawValue, .problem(.serviceUnavailable, Refusal.storeUnavailable.reason))
        }
    }

    private static func count(_ outcome: String, _ response: GatewayResponse) -> GatewayResponse {
        Counter(label: "apigw_tokens_total", dimensions: [("outcome", outcome)]).increment()
        return response
    }
}

/// The token endpoint cannot be served.
public struct ConnectionTokenEndpointError: Error, Sendable, CustomStringConvertible {
    public let description: String

    static let noIdentityStore = ConnectionTokenEndpointError(
        description: "the token endpoint needs a store that keeps tokens (an IdentityStore)")
}

extension GatewayResponse {
    /// `{"message": reason}` with `status`: how the doors' own endpoints (the token endpoint, the
    /// publish endpoint) refuse, in the shape Vapor's error middleware answers with.
    public static func problem(_ status: HTTPResponse.Status, _ reason: String) -> GatewayResponse {
        GatewayResponse(
            status: status, headerFields: [.contentType: "application/json; charset=utf-8"],
            body: ByteBuffer(data: (try? JSONEncoder().encode(["message": reason])) ?? Data()))
    }
}
