import APIGatewayWebSockets
import Foundation
public import Vapor

/// Logs each request's method and path as Vapor's `RouteLoggingMiddleware` does, without letting
/// the client write the log: the path is escaped (a `%0A` in it is logged `\n`, never a line
/// break that starts a forged line), and the `request-id` every line of the request carries is
/// made here, not taken from the client's `X-Request-Id` (which Vapor adopts as it is, so a
/// client could give its requests another request's id). A client's id is kept, escaped, under
/// `client-request-id`.
///
/// Use it in place of `RouteLoggingMiddleware`, first:
///
/// ```swift
/// app.middleware = Middlewares()
/// app.middleware.use(RequestLogging())
/// app.middleware.use(ErrorMiddleware.default(environment: app.environment))
/// ```
public struct RequestLogging: AsyncMiddleware {
    public let level: Logger.Level

    public init(level: Logger.Level = .info) {
        self.level = level
    }

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        request.logger[metadataKey: "request-id"] = .string(UUID().uuidString)
        if let claimed = request.headers.first(name: .xRequestId) {
            request.logger[metadataKey: "client-request-id"] = .string(LogValue(claimed, limit: 64).description)
        }
        let path = request.url.path.removingPercentEncoding ?? request.url.path
        request.logger.log(level: level, "\(request.method) \(LogValue(path))")
        return try await next.respond(to: request)
    }
}
