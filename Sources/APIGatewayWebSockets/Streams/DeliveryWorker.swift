public import APIGatewayAWS
public import Logging
public import ServiceLifecycle
import Synchronization

/// Delivers the outbox: messages published inside a transaction (once it commits), and any whose
/// publisher died before delivering them (once its claim runs out). A `Service`: run it in the
/// app's `ServiceGroup` (the Vapor door's `WebSocketGateway` runs one when streams are on), on
/// every instance if you like: claims keep two from delivering one message at once.
///
/// It polls every ``pollInterval``, at once when ``wake()`` rings (the Vapor door rings after a
/// transaction with publishes commits), prunes the history to the retention every
/// ``pruneInterval``, and reports the outbox in `/metrics`.
public final class DeliveryWorker: Service, Sendable {
    public let streams: Streams
    public let pollInterval: Duration
    public let pruneInterval: Duration
    /// How many messages one claim takes.
    public let batchSize: Int
    let logger: Logger
    private let doorbell = Doorbell()

    public init(
        streams: Streams, pollInterval: Duration = .milliseconds(500), pruneInterval: Duration = .seconds(60), batchSize: Int = 100,
        logger: Logger = .disabled
    ) {
        precondition(batchSize > 0, "a claim takes at least one message")
        self.streams = streams
        self.pollInterval = pollInterval
        self.pruneInterval = pruneInterval
        self.batchSize = batchSize
        self.logger = logger
    }

    /// Looks at the outbox now rather than at the next poll.
    public func wake() { doorbell.ring() }

    public func run() async throws {
        let stopping = Atomic(false)
        await withGracefulShutdownHandler {
            var lastPrune = ContinuousClock.now - pruneInterval
            while !stopping.load(ordering: .relaxed), !Task.isCancelled {
                var delivered = 0
                do {
                    delivered = try await streams.deliverPending(limit: batchSize)
                    if lastPrune.duration(to: .now) >= pruneInterval {
                        lastPrune = .now
                        try await prune()
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("the outbox could not be delivered", metadata: ["apigw.error": "\(error)"])
                }
                // A full batch: more are likely waiting.
                if delivered < batchSize { await doorbell.wait(upTo: pollInterval) }
            }
        } onGracefulShutdown: {
            stopping.store(true, ordering: .relaxed)
            self.doorbell.ring()
        }
    }

    private func prune() async throws {
        let now = streams.now()
        let pruned = try await streams.store.pruneStreams(streams.configuration.retention, at: now)
        try await streams.reportStatistics()
        if pruned > 0 { logger.debug("stream history pruned", metadata: ["apigw.pruned": "\(pruned)"]) }
    }
}

/// One waiter woken by a ring or a timeout; a ring with nobody waiting is kept for the next wait.
final class Doorbell: Sendable {
    private let state = Mutex<(rung: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    func wait(upTo timeout: Duration) async {
        let timer = Task { [weak self] in
            // Cancelled (the wait ended otherwise): no ring, or it would wake the next wait at once.
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            self?.ring()
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if state.rung {
                        state.rung = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            ring()
        }
    }
}
