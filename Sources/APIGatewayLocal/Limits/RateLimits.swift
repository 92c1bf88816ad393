import Foundation
import Synchronization

/// A token bucket: `rate` tokens a second, at most `burst` saved up.
struct TokenBucket: Sendable {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var refilledAt: Date?

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
        self.tokens = burst
    }

    /// Takes one token at `now`; `false` when the bucket is empty.
    mutating func take(at now: Date) -> Bool {
        if let refilledAt {
            tokens = min(burst, tokens + max(0, now.timeIntervalSince(refilledAt)) * rate)
        }
        refilledAt = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

/// The opt-in limits of fidelity case 24: new connections a second (AWS: 500 per account and
/// region) and `@connections` calls (AWS: a token bucket shared with the account's other APIs).
final class RateLimits: Sendable {
    private let connects: Mutex<TokenBucket?>
    private let callbacks: Mutex<TokenBucket?>
    private let clock: LocalClock

    init(configuration: LocalGatewayConfiguration) {
        clock = configuration.clock
        connects = Mutex(configuration.connectRateLimit.map { TokenBucket(rate: Double($0), burst: Double($0)) })
        callbacks = Mutex(configuration.callbackRateLimit.map { TokenBucket(rate: Double($0.rate), burst: Double($0.burst)) })
    }

    /// `false` when a new connection now would exceed the connect rate.
    func admitConnect() -> Bool {
        let now = clock.now()
        return connects.withLock { bucket in bucket?.take(at: now) ?? true }
    }

    /// `false` when an `@connections` call now would exceed the callback bucket.
    func admitCallback() -> Bool {
        let now = clock.now()
        return callbacks.withLock { bucket in bucket?.take(at: now) ?? true }
    }
}
