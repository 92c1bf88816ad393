import APIGatewayWebSockets
import Fluent
import Foundation
import Metrics
import NIOCore
import Prometheus
import Vapor
import VaporAPIGatewayWebSockets

/// `GET /metrics`: the framework's metrics in Prometheus's text format, for a scraper on the
/// same machine or a logged-in administrator; anyone else is refused 403. Behind a reverse proxy
/// on the same machine every client looks local: set `CHAT_METRICS_LOOPBACK=off` there, and only
/// administrators see them. The live sessions gauge and the streams' (`apigw_streams`,
/// `apigw_stream_messages`, `apigw_stream_outbox_depth`, `apigw_stream_outbox_oldest_seconds`)
/// are read from the store at each scrape: every instance reports the same numbers, so read
/// them with `max()`, not `sum()`.
public enum ChatMetrics {
    /// Bootstraps swift-metrics with a Prometheus registry, once per process, and answers it.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    static func register(
        on app: Application, registry: PrometheusCollectorRegistry, gateway: WebSocketGateway, login: [any Middleware]
    ) {
        let trustsLoopback = Environment.get("CHAT_METRICS_LOOPBACK") != "off"
        app.grouped(login).get("metrics") { request async throws -> Response in
            let allowed = trustsLoopback && request.isFromLoopback ? true : try await isAdmin(request, gateway: gateway)
            guard allowed else {
                throw Abort(.forbidden, reason: "Metrics are for this machine and administrators")
            }
            let live = try await gateway.dispatcher.store.connectedCount(apiID: nil)
            Gauge(label: "apigw_live_sessions").record(live)
            try await gateway.dispatcher.streams?.reportStatistics()
            var headers = HTTPHeaders()
            headers.contentType = HTTPMediaType(type: "text", subType: "plain", parameters: ["version": "0.0.4", "charset": "utf-8"])
            return Response(status: .ok, headers: headers, body: .init(buffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }

    private static func isAdmin(_ request: Request, gateway: WebSocketGateway) async throws -> Bool {
        guard let user = gateway.authentication?.user(request), let permissions = gateway.dispatcher.permissions else { return false }
        return try await permissions.user(user.id, has: .admin)
    }
}

extension Request {
    /// Whether the peer is this machine (and no proxy in between said otherwise).
    var isFromLoopback: Bool {
        guard headers.first(name: "X-Forwarded-For") == nil, let address = remoteAddress?.ipAddress else { return false }
        return address == "127.0.0.1" || address == "::1" || address.hasPrefix("127.")
    }
}
