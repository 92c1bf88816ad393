public import APIGatewayAWS
public import Foundation
public import Logging
import Metrics

/// Sends messages to connections: one, a channel, a user's, or everyone's.
///
/// The audience is streamed from the ``ConnectionStore`` a page at a time and posted with at
/// most `maxConcurrentPosts` requests in flight, so memory does not grow with the audience.
/// Connections API Gateway reports gone are marked disconnected in bulk.
///
/// ```swift
/// let report = try await messenger.send(try Payload(json: note), to: .channel(lobby), on: gateway)
/// ```
public struct Messenger: Sendable {
    public let store: any ConnectionStore
    public let poster: any ConnectionPoster
    /// How many ids one store query fetches.
    public var pageSize: Int
    /// How many posts may be in flight at once.
    public var maxConcurrentPosts: Int
    public var logger: Logger
    var now: @Sendable () -> Date
    /// `apigw_fanout_posts_total{result}`, made once with the messenger.
    private let counters = (
        sent: Counter(label: "apigw_fanout_posts_total", dimensions: [("result", "sent")]),
        gone: Counter(label: "apigw_fanout_posts_total", dimensions: [("result", "gone")]),
        failed: Counter(label: "apigw_fanout_posts_total", dimensions: [("result", "failed")])
    )

    public init(
        store: any ConnectionStore,
        poster: any ConnectionPoster,
        pageSize: Int = 1000,
        maxConcurrentPosts: Int = 64,
        logger: Logger = .disabled,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        precondition(pageSize > 0 && maxConcurrentPosts > 0, "page size and concurrency must be positive")
        self.store = store
        self.poster = poster
        self.pageSize = pageSize
        self.maxConcurrentPosts = maxConcurrentPosts
        self.logger = logger
        self.now = now
    }

    /// Sends `payload` to every connection in `audience` on `gateway`'s API.
    ///
    /// A single connection is posted to whether or not the store knows it. Recipients that
    /// fail do not stop the others; the report says who.
    /// - Throws: only when the store cannot be read or written.
    public func send(_ payload: Payload, to audience: Audience, on gateway: GatewayRecord) async throws -> DeliveryReport {
        try await send(payload, to: audience, on: gateway, afterEachPage: nil)
    }

    /// ``send(_:to:on:)``, calling `afterEachPage` once each page of the audience has been posted
    /// to (a stream's delivery keeps its claim with it).
    func send(
        _ payload: Payload, to audience: Audience, on gateway: GatewayRecord, afterEachPage: (@Sendable () async throws -> Void)?
    ) async throws -> DeliveryReport {
        let started = ContinuousClock.now
        var report = DeliveryReport()
        if case .connection(let id) = audience.kind {
            await post(payload, to: [id], on: gateway, into: &report)
        } else {
            var after: ConnectionID?
            while true {
                let page = try await store.audience(audience, apiID: gateway.apiID, after: after, limit: pageSize)
                guard let last = page.last else { break }
                let goneBefore = report.gone.count
                await post(payload, to: page, on: gateway, into: &report)
                try await markGone(report.gone[goneBefore...], on: gateway)
                try await afterEachPage?()
                after = last
                if page.count < pageSize { break }
            }
            return finish(report, audience: audience, started: started)
        }
        try await markGone(report.gone[...], on: gateway)
        return finish(report, audience: audience, started: started)
    }

    private func finish(_ report: DeliveryReport, audience: Audience, started: ContinuousClock.Instant) -> DeliveryReport {
        var report = report
        report.elapsed = started.duration(to: .now)
        // Counted per send, never per recipient: `apigw_fanout_posts_total{result}`.
        if report.sent > 0 { counters.sent.increment(by: report.sent) }
        if !report.gone.isEmpty { counters.gone.increment(by: report.gone.count) }
        if report.failedCount > 0 { counters.failed.increment(by: report.failedCount) }
        if report.failedCount > 0 {
            logger.warning(
                "posts failed",
                metadata: [
                    "apigw.audience": "\(audience)", "apigw.sent": "\(report.sent)", "apigw.failed": "\(report.failedCount)",
                    "apigw.error": "\(report.failures.first?.reason ?? "")",
                ])
        }
        return report
    }

    private func markGone(_ ids: ArraySlice<ConnectionID>, on gateway: GatewayRecord) async throws {
        guard !ids.isEmpty else { return }
        let marked = try await store.markGone(Array(ids), apiID: gateway.apiID, at: now())
        logger.debug("marked gone connections disconnected", metadata: ["apigw.gone": "\(ids.count)", "apigw.marked": "\(marked)"])
    }

    /// What one child task reports back.
    private struct Outcome: Sendable {
        let id: ConnectionID
        let result: PostResult?
        let failure: String?
    }

    /// Posts to every id with at most `maxConcurrentPosts` in flight.
    private func post(_ payload: Payload, to ids: [ConnectionID], on gateway: GatewayRecord, into report: inout DeliveryReport) async {
        let poster = self.poster
        // One recipient (every reply): posted here, without a task group's child task and the
        // executor hops it costs.
        if ids.count == 1 {
            record(await Self.post(payload, to: ids[0], on: gateway, with: poster), into: &report)
            return
        }
        await withTaskGroup(of: Outcome.self) { group in
            var next = ids.startIndex
            var inFlight = 0
            while next < ids.endIndex || inFlight > 0 {
                while next < ids.endIndex, inFlight < maxConcurrentPosts {
                    let id = ids[next]
                    next += 1
                    inFlight += 1
                    group.addTask { await Self.post(payload, to: id, on: gateway, with: poster) }
                }
                guard let outcome = await group.next() else { break }
                inFlight -= 1
                record(outcome, into: &report)
            }
        }
    }

    private static func post(_ payload: Payload, to id: ConnectionID, on gateway: GatewayRecord, with poster: any ConnectionPoster) async
        -> Outcome
    {
        do {
            return Outcome(id: id, result: try await poster.post(payload, to: id, on: gateway), failure: nil)
        } catch {
            return Outcome(id: id, result: nil, failure: String(describing: error))
        }
    }

    private func record(_ outcome: Outcome, into report: inout DeliveryReport) {
        switch outcome.result {
        case .sent?: report.sent += 1
        case .gone?: report.gone.append(outcome.id)
        default:
            report.recordFailure(outcome.id, reason: outcome.failure ?? "unknown")
            logger.debug("post failed", metadata: ["apigw.connection.id": "\(outcome.id)", "apigw.error": "\(outcome.failure ?? "")"])
        }
    }
}
