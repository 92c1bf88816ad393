import Metrics
import Synchronization
import Tracing

/// The event path's metrics, each made once per set of labels and kept:
/// `apigw_events_total{api, event, route, outcome}` (`handled`, `failed`, or the refusal's code),
/// `apigw_event_duration_seconds{event}`, `apigw_handler_duration_seconds{route, handler}` and
/// `apigw_store_duration_seconds{operation}`. Store calls also run in spans of their own, and a
/// failure of the store becomes a ``StoreFailure`` here (answered 503).
final class EventMetrics: Sendable {
    private struct EventKey: Hashable {
        let api: String
        let event: EventKind
        let route: RouteKey
        let outcome: String
    }

    private struct HandlerKey: Hashable {
        let route: RouteKey
        let handler: String
    }

    private static let events = [EventKind.connect, .message, .disconnect]
    /// Made once per label set, so an event allocates no metric, label or span name.
    private let counters = Mutex<[EventKey: Counter]>([:])
    private let eventTimers = events.map { Metrics.Timer(label: "apigw_event_duration_seconds", dimensions: [("event", "\($0)")]) }
    private let eventNames = events.map { "\($0)" }
    private let routeSpans = Mutex<[RouteKey: String]>([:])
    private let handlers = Mutex<[HandlerKey: (timer: Metrics.Timer, span: String)]>([:])
    private let operations = Mutex<[String: (timer: Metrics.Timer, span: String)]>([:])

    func record(_ event: EventKind, _ route: RouteKey, api: String, outcome: String, since started: ContinuousClock.Instant) {
        let key = EventKey(api: api, event: event, route: route, outcome: outcome)
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "apigw_events_total",
                dimensions: [("api", api), ("event", eventNames[event.index]), ("route", route.rawValue), ("outcome", outcome)])
            counters[key] = counter
            return counter
        }
        counter.increment()
        eventTimers[event.index].record(duration: started.duration(to: .now))
    }

    /// `apigw_handler_duration_seconds{route, handler}` and the handler's span name.
    func handler(_ route: RouteKey, _ name: String) -> (timer: Metrics.Timer, span: String) {
        handlers.withLock { handlers in
            let key = HandlerKey(route: route, handler: name)
            if let made = handlers[key] { return made }
            let made = (
                Metrics.Timer(label: "apigw_handler_duration_seconds", dimensions: [("route", route.rawValue), ("handler", name)]),
                "handler \(name)"
            )
            handlers[key] = made
            return made
        }
    }

    /// The span name of an event on `route`: `apigw <event> <route key>`.
    func spanName(of route: RegisteredRoute) -> String {
        routeSpans.withLock { names in
            if let name = names[route.routeKey] { return name }
            let name = "apigw \(route.event) \(route.routeKey)"
            names[route.routeKey] = name
            return name
        }
    }

    /// Times `body` on `apigw_store_duration_seconds{operation}`, in a span of its own; a failure
    /// of the store is a ``StoreFailure`` (answered 503).
    func store<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        let (timer, span) = operations.withLock { operations in
            if let made = operations[operation] { return made }
            let made = (Metrics.Timer(label: "apigw_store_duration_seconds", dimensions: [("operation", operation)]), "store \(operation)")
            operations[operation] = made
            return made
        }
        let started = ContinuousClock.now
        defer { timer.record(duration: started.duration(to: .now)) }
        do {
            return try await withSpan(span, ofKind: .client) { _ in try await body() }
        } catch let refusal as Refusal {
            throw refusal
        } catch let error where StoreFailure.isOurs(error) {
            throw error  // a fault of this side (cancelled, undecodable, misconfigured): a 500, not a retry
        } catch {
            throw StoreFailure(operation: operation, underlying: error)
        }
    }
}
