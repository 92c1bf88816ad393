public import APIGatewayAWS
import AsyncAlgorithms
public import Foundation
public import Logging
public import ServiceLifecycle

/// Deletes what no longer counts, so the store stays bounded however long the app runs:
/// sessions API Gateway has certainly closed are marked disconnected (``SessionSweeper``),
/// disconnected sessions past their retention, expired one-time tokens and rate-limit hits no
/// window can count any more are deleted, and any steps of the app's own (its web sessions) run.
/// Every statement is idempotent, so every instance may run it.
///
/// ```swift
/// let report = try await Cleanup(store: store).run()
/// ```
public struct Cleanup: Sendable {
    /// One step of the app's own: deletes what expired before the date it is given, and answers
    /// how many rows it deleted.
    public struct Step: Sendable {
        public let name: String
        public let run: @Sendable (Date) async throws -> Int

        public init(_ name: String, run: @escaping @Sendable (Date) async throws -> Int) {
            self.name = name
            self.run = run
        }
    }

    public let store: any ConnectionStore
    /// Tokens and hits; the session store when it is one too.
    public let identity: (any IdentityStore)?
    /// Disconnected sessions are kept this long (for the admin and `sessions list`). Default a day.
    public var disconnectedRetention: Duration
    /// Hits are kept this long: at least the longest rate-limit window. Default an hour.
    public var hitRetention: Duration
    /// Steps of the app's own, run after the framework's.
    public var steps: [Step]
    let sweeper: SessionSweeper

    public init(
        store: any ConnectionStore, identity: (any IdentityStore)? = nil, disconnectedRetention: Duration = .seconds(24 * 3600),
        hitRetention: Duration = .seconds(3600), steps: [Step] = [], logger: Logger = .disabled
    ) {
        self.store = store
        self.identity = identity ?? (store as? any IdentityStore)
        self.disconnectedRetention = disconnectedRetention
        self.hitRetention = hitRetention
        self.steps = steps
        self.sweeper = SessionSweeper(store: store, logger: logger)
    }

    /// Runs every step once. Returns how many rows each touched, by name, in the order run.
    @discardableResult
    public func run(now: Date = Date()) async throws -> [(name: String, count: Int)] {
        var report: [(name: String, count: Int)] = []
        report.append(("sessions swept", try await sweeper.sweep(now: now)))
        report.append(
            (
                "disconnected sessions",
                try await store.purgeDisconnected(before: now.addingTimeInterval(-disconnectedRetention.timeInterval))
            ))
        if let identity {
            report.append(("expired tokens", try await identity.purgeTokens(expiredBefore: now)))
            report.append(("rate-limit hits", try await identity.purgeHits(before: now.addingTimeInterval(-hitRetention.timeInterval))))
        }
        for step in steps { report.append((step.name, try await step.run(now))) }
        return report
    }
}

/// Runs a ``Cleanup`` every ``interval`` until graceful shutdown (or cancellation): add it to the
/// app's `ServiceGroup` (a Hummingbird app), or hand it to the Vapor door's
/// `scheduleCleanup(every:on:)`. A failed run is logged and the next one tried on time.
public struct CleanupService: Service {
    public let cleanup: Cleanup
    public let interval: Duration
    public let logger: Logger

    public init(cleanup: Cleanup, interval: Duration = .seconds(600), logger: Logger = .disabled) {
        self.cleanup = cleanup
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        for await _ in AsyncTimerSequence(interval: interval, clock: .continuous).cancelOnGracefulShutdown() {
            do {
                let report = try await cleanup.run()
                logger.debug("cleanup", metadata: Logger.Metadata(uniqueKeysWithValues: report.map { ("apigw.\($0.name)", "\($0.count)") }))
            } catch is CancellationError {
                return
            } catch {
                logger.warning("cleanup failed", metadata: ["apigw.error": "\(error)"])
            }
        }
    }
}

extension GatewayDispatcher {
    /// The framework's cleanup for this dispatcher, as either door schedules it: its store's
    /// sessions, tokens and rate-limit hits (kept as long as the longest connect-rate window
    /// needs them), the streams' history beyond its retention when streams are on, then `steps`
    /// (the app's web sessions, say).
    public func cleanup(steps: [Cleanup.Step] = [], logger: Logger = .disabled) -> Cleanup {
        let limits = configuration.connectRateLimits
        let longest = [limits.perAddress, limits.perUser].compactMap { $0?.window }.max() ?? .zero
        var all: [Cleanup.Step] = steps
        // The delivery worker prunes too; the `cleanup` command does it once, with the rest.
        if let streams {
            all.append(Cleanup.Step("stream history") { try await streams.store.pruneStreams(streams.configuration.retention, at: $0) })
        }
        return Cleanup(store: store, identity: identity, hitRetention: max(.seconds(3600), longest), steps: all, logger: logger)
    }
}
