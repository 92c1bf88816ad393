import HTTPTypes
import Tracing

/// Reads trace context from an event's headers for the tracer: the headers themselves (whatever
/// propagation the tracer uses), and a W3C `traceparent` made from API Gateway's
/// `X-Amzn-Trace-Id` when the request has none. Each event's span continues API Gateway's trace
/// (``GatewayDispatcher/handle(_:at:)``); on `$connect` the other headers are the client's own
/// (API Gateway forwards them), so there only API Gateway's trace id is trusted.
struct TraceHeaders: Extractor {
    let amazon: AmazonTraceID?
    /// Whether the request's own headers may carry trace context (not on `$connect`).
    let readsHeaders: Bool

    func extract(key: String, from request: GatewayRequest) -> String? {
        if readsHeaders, let name = HTTPField.Name(key), let value = request.headerFields[name] { return value }
        return key.lowercased() == "traceparent" ? amazon?.traceparent : nil
    }
}
