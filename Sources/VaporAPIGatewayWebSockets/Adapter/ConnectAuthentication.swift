public import APIGatewayWebSockets
import Foundation
import Metrics
public import Vapor

/// How the Vapor integration finds the app's logged-in user: API Gateway forwards the browser's
/// `Cookie` on `$connect` only, so `$connect` (and the token endpoint) run through the app's own
/// middleware (its sessions and authenticator), and ``user`` reads who they authenticated.
///
/// ```swift
/// let authentication = ConnectAuthentication(middleware: [app.sessions.middleware, User.sessionAuthenticator()]) { request in
///     request.auth.get(User.self).map { AuthenticatedUser(id: $0.name, webSessionID: request.session.id?.string) }
/// }
/// let gateway = WebSocketGateway(app: app, poster: poster, authentication: authentication)
/// ```
public struct ConnectAuthentication: Sendable {
    /// Run before `$connect` and the token endpoint, in order.
    public var middleware: [any Middleware]
    /// The user the middleware authenticated, if any.
    public var user: @Sendable (Request) -> AuthenticatedUser?
    /// Whether the middleware reads a web session (the startup checks want one when a controller
    /// requires a user). By default, whether it holds Vapor's `SessionsMiddleware`; say `true` for
    /// a login of your own kept in a cookie.
    public var readsWebSessions: Bool

    public init(
        middleware: [any Middleware], readsWebSessions: Bool? = nil, user: @escaping @Sendable (Request) -> AuthenticatedUser?
    ) {
        self.middleware = middleware
        self.user = user
        self.readsWebSessions = readsWebSessions ?? middleware.contains { $0 is SessionsMiddleware }
    }

    /// ``middleware`` behind ``LoginReadFailure``: what every door that trusts a login runs, so a
    /// web-session store that is away answers a fast 503, never a 500 with the driver's words.
    public var guardedMiddleware: [any Middleware] { [LoginReadFailure()] + middleware }
}

/// Answers `503 {"message":"Service unavailable"}` when the login's middleware fails (the web
/// sessions' database is down or out of connections) instead of letting the error reach Vapor's
/// `ErrorMiddleware`, which answers 500 and, outside production, the driver's error text. An
/// `AbortError` (a middleware's deliberate answer) passes through.
public struct LoginReadFailure: AsyncMiddleware {
    public init() {}

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch let error as any AbortError {
            throw error
        } catch {
            request.logger.error("the login could not be read", metadata: ["apigw.error": "\(LogValue(String(reflecting: error)))"])
            Counter(label: "apigw_login_read_failures_total").increment()
            return Response(GatewayResponse(refusal: .storeUnavailable))
        }
    }
}

extension WebSocketGateway {
    /// Serves `POST {path}` (default `/ws/token`): for a logged-in user, a one-time connection
    /// token, `{"token": "…", "expiresAt": "…"}`, to connect with `?ws_token=`. Refused 401 without
    /// a login, 403 for a cross-site request (`Sec-Fetch-Site: cross-site`, or an `Origin` that is
    /// not allowed: one of `allowedOrigins`, or the request's own host when that list is empty),
    /// 429 past the per-user limit.
    /// - Throws: ``ConnectAuthenticationError`` when the gateway has no ``ConnectAuthentication``
    ///   or its store keeps no tokens.
    public func serveConnectionTokens(
        at path: String = "ws/token", lifetime: Duration = .seconds(60), perUserPerMinute: Int = 10
    ) throws {
        guard let authentication else { throw ConnectAuthenticationError.notConfigured }
        let endpoint = try ConnectionTokenEndpoint(dispatcher: dispatcher, lifetime: lifetime, perUserPerMinute: perUserPerMinute)
        let components = path.split(separator: "/").map { PathComponent.constant(String($0)) }
        tokenEndpoint.withLock { $0 = "/" + components.map(\.description).joined(separator: "/") }
        routes.grouped(authentication.guardedMiddleware).on(.POST, components) { request async -> Response in
            Response(
                await endpoint.respond(
                    headerFields: GatewayRequest.headerFields(request.headers), host: request.headers.first(name: .host),
                    user: authentication.user(request), logger: request.logger))
        }
    }
}

extension Response {
    /// `{"message": reason}` with `status`: how the door's own endpoints (the token endpoint, the
    /// publish endpoint) refuse, in the shape Vapor's error middleware answers with.
    static func problem(_ status: HTTPResponseStatus, _ reason: String) -> Response {
        Response(GatewayResponse.problem(.init(code: Int(status.code)), reason))
    }
}

/// The token endpoint cannot be served.
public struct ConnectAuthenticationError: Error, Sendable, CustomStringConvertible {
    public let description: String

    static let notConfigured = ConnectAuthenticationError(
        description: "the token endpoint needs the gateway's ConnectAuthentication, to know who is logged in")
}
