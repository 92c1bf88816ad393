public import Foundation

/// Limits password attempts per account name and per client address, in the shared
/// ``IdentityStore``, so a guesser gets a few tries a minute however many instances answer.
/// Every attempt counts (a right password too): an account is not unlocked by guessing right.
/// The cleanup keeps hits for an hour by default: longer windows need a longer
/// ``Cleanup/hitRetention``.
///
/// ```swift
/// let throttle = LoginThrottle(identity: store)
/// try await throttle.admit(name: form.name, address: request.remoteAddress?.ipAddress)  // 429 past a limit
/// ```
public struct LoginThrottle: Sendable {
    public let identity: any IdentityStore
    /// Attempts per account name. Default 10 in 5 minutes.
    public var perName: GatewayConfiguration.RateLimit
    /// Attempts per client address (an IPv6 address counts as its /64). Default 30 in 5 minutes.
    public var perAddress: GatewayConfiguration.RateLimit
    let now: @Sendable () -> Date

    public init(
        identity: any IdentityStore, perName: GatewayConfiguration.RateLimit = .init(10, per: .seconds(300)),
        perAddress: GatewayConfiguration.RateLimit = .init(30, per: .seconds(300)), now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.identity = identity
        self.perName = perName
        self.perAddress = perAddress
        self.now = now
    }

    /// Counts one attempt to log in as `name` from `address`, or refuses it.
    /// - Throws: a ``Refusal`` with status 429 (`login_throttled`) past either limit, the address's
    ///   checked first (so a flood from one address spends no account's budget).
    public func admit(name: String, address: String?) async throws {
        let date = now()
        if let address,
            !(try await identity.hit(
                "login address " + RateLimitKey.address(address), at: date, window: perAddress.window, limit: perAddress.limit))
        {
            throw Refusal.tooManyLogins(perAddress)
        }
        // Names compare as people type them: `Ada` and `ada` share one budget.
        let key = "login name " + name.lowercased().prefix(256)
        guard try await identity.hit(key, at: date, window: perName.window, limit: perName.limit) else {
            throw Refusal.tooManyLogins(perName)
        }
    }
}
