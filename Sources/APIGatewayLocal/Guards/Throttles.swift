import Foundation
import Synchronization

/// The stage's route throttles (`defaultRouteSettings`, `routeSettings`): one token bucket per
/// API, stage and route key, remade when its settings change. Past it the client hears 429.
final class RouteThrottles: Sendable {
    private struct Held {
        var bucket: TokenBucket
        let rate: Double
        let burst: Int
    }

    private let buckets = Mutex<[String: Held]>([:])
    private let clock: LocalClock

    init(clock: LocalClock) { self.clock = clock }

    /// `false` when one more request on `routeKey` now would pass its throttle.
    /// `stage` is the API's stage `name`, as the caller already holds it.
    func admit(_ api: LocalAPI, stage: LocalStage?, named name: String, routeKey: String) -> Bool {
        guard let limit = stage?.throttle(for: routeKey) else { return true }
        let key = "\(api.apiId)/\(name)/\(routeKey)"
        let now = clock.now()
        return buckets.withLock { buckets in
            if buckets[key].map({ $0.rate != limit.rate || $0.burst != limit.burst }) ?? true {
                buckets[key] = Held(bucket: TokenBucket(rate: limit.rate, burst: Double(limit.burst)), rate: limit.rate, burst: limit.burst)
            }
            return buckets[key]!.bucket.take(at: now)
        }
    }
}

/// Usage plans at work: each key's throttle (a token bucket per plan and key) and quota (requests
/// counted since the start of the plan's `DAY`, `WEEK` or `MONTH`, in UTC).
final class UsagePlanMeter: Sendable {
    private struct Key: Hashable {
        let planId: String
        let keyId: String
    }

    private struct Meter {
        var bucket: TokenBucket?
        var throttle: LocalUsagePlan.Throttle?
        var periodStart: Date
        var used: Int
    }

    private let meters = Mutex<[Key: Meter]>([:])
    private let clock: LocalClock

    init(clock: LocalClock) { self.clock = clock }

    enum Outcome: Sendable {
        case admitted, throttled, quotaExceeded
    }

    /// Counts one request of `keyId` under `plan`, unless it is past its throttle or quota (429).
    func admit(_ keyId: String, under plan: LocalUsagePlan) -> Outcome {
        let now = clock.now()
        let start = plan.quota.map { Self.periodStart($0.period, at: now) } ?? .distantPast
        return meters.withLock { meters in
            let key = Key(planId: plan.id, keyId: keyId)
            var meter = meters[key] ?? Meter(periodStart: start, used: 0)
            if meter.throttle != plan.throttle || (meter.bucket == nil && plan.throttle != nil) {
                meter.throttle = plan.throttle
                meter.bucket = plan.throttle.map {
                    let rate = $0.rateLimit ?? 10_000
                    return TokenBucket(rate: rate, burst: Double($0.burstLimit ?? 0) > 0 ? Double($0.burstLimit!) : max(1, rate.rounded(.up)))
                }
            }
            if meter.periodStart != start {
                meter.periodStart = start
                meter.used = 0
            }
            defer { meters[key] = meter }
            if let quota = plan.quota, meter.used >= quota.limit { return .quotaExceeded }
            if var bucket = meter.bucket {
                let taken = bucket.take(at: now)
                meter.bucket = bucket
                guard taken else { return .throttled }
            }
            meter.used += 1
            return .admitted
        }
    }

    func forget(planId: String) { meters.withLock { meters in meters = meters.filter { $0.key.planId != planId } } }

    /// The start of the quota period that holds `now`, in UTC (weeks start on Monday).
    static func periodStart(_ period: String, at now: Date) -> Date {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        switch period {
        case "WEEK": return calendar.dateInterval(of: .weekOfYear, for: now)?.start ?? now
        case "MONTH": return calendar.dateInterval(of: .month, for: now)?.start ?? now
        default: return calendar.startOfDay(for: now)
        }
    }
}
