public import APIGatewayAWS
public import Foundation
public import Logging

/// Marks disconnected the sessions API Gateway has certainly closed: those created longer ago
/// than its maximum connection duration. `$disconnect` is sent best effort, and a `$connect` that
/// outlived the integration timeout left a row for a connection that never opened; without a
/// sweep such rows stay `connected` until a post finds them gone.
///
/// ```swift
/// let swept = try await SessionSweeper(store: store).sweep()
/// ```
public struct SessionSweeper: Sendable {
    public let store: any ConnectionStore
    /// Sessions older than this are swept: API Gateway's 2 hours plus a minute of clock skew.
    public var maximumAge: Duration
    public let logger: Logger

    public init(
        store: any ConnectionStore,
        maximumAge: Duration = Session.maximumConnectionDuration + .seconds(60),
        logger: Logger = .disabled
    ) {
        self.store = store
        self.maximumAge = maximumAge
        self.logger = logger
    }

    /// Sweeps once; returns how many sessions it marked.
    public func sweep(now: Date = Date()) async throws -> Int {
        let cutoff = now.addingTimeInterval(-maximumAge.timeInterval)
        let swept = try await store.disconnectSessions(createdBefore: cutoff, at: now)
        logger.debug("swept expired sessions", metadata: ["apigw.swept": "\(swept)"])
        return swept
    }
}
