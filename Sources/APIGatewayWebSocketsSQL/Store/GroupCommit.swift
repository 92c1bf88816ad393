import Synchronization

/// Group commit for any store write: calls that arrive while one batch is running are run
/// together by the next, so a busy backend pays one transaction (or statement) per batch instead of
/// one per call. The first caller with nothing running leads: it runs a batch of itself and whoever
/// is waiting, answers them, then hands the lead to the next waiter, so nobody's answer waits behind
/// more than one batch of others. (``TouchCoalescer`` is the same idea, with its own rule for which
/// touches may share a statement.)
final class GroupCommit<Item: Sendable, Answer: Sendable>: Sendable {
    /// Runs a batch: one result per item, in order (an error thrown is every item's).
    typealias Batch = @Sendable ([Item]) async throws -> [Result<Answer, any Error>]

    private enum Wake: Sendable {
        case answered(Result<Answer, any Error>)
        case lead
    }

    private struct Waiter {
        let item: Item
        let continuation: CheckedContinuation<Wake, Never>
    }

    private struct State {
        var running = false
        var waiting: [Waiter] = []
    }

    let maxBatch: Int
    private let run: Batch
    private let state = Mutex(State())

    init(maxBatch: Int = 256, run: @escaping Batch) {
        precondition(maxBatch > 0, "a batch holds at least one item")
        self.maxBatch = maxBatch
        self.run = run
    }

    func submit(_ item: Item) async throws -> Answer {
        let leads = state.withLock { state in
            if state.running { return false }
            state.running = true
            return true
        }
        if !leads {
            // Deciding to wait and queueing happen under one lock, so a leader finishing meanwhile
            // cannot hand the lead to nobody.
            let wake = await withCheckedContinuation { continuation in
                let leadsNow = state.withLock { state in
                    if state.running {
                        state.waiting.append(Waiter(item: item, continuation: continuation))
                        return false
                    }
                    state.running = true
                    return true
                }
                if leadsNow { continuation.resume(returning: .lead) }
            }
            if case .answered(let result) = wake { return try result.get() }
        }
        return try await lead(item)
    }

    private func lead(_ item: Item) async throws -> Answer {
        let others = state.withLock { state -> [Waiter] in
            let taken = Array(state.waiting.prefix(maxBatch - 1))
            state.waiting.removeFirst(taken.count)
            return taken
        }
        let results: [Result<Answer, any Error>]
        do {
            results = try await run([item] + others.map(\.item))
            precondition(results.count == others.count + 1, "a batch answers every item")
        } catch {
            results = Array(repeating: .failure(error), count: others.count + 1)
        }
        for (other, result) in zip(others, results.dropFirst()) { other.continuation.resume(returning: .answered(result)) }
        let next = state.withLock { state -> Waiter? in
            guard !state.waiting.isEmpty else {
                state.running = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.continuation.resume(returning: .lead)
        return try results[0].get()
    }
}

/// Writes handed over without waiting: each is queued, and one task at a time writes whatever is
/// queued, so a burst becomes a few batched writes and nobody waits for them. A write that fails
/// is dropped (its caller said it could be: a delivery mark, whose loss means a redelivery).
final class DeferredWrites<Item: Sendable>: Sendable {
    typealias Write = @Sendable ([Item]) async throws -> Void

    private struct State {
        var pending: [Item] = []
        var writing = false
    }

    let maxBatch: Int
    private let write: Write
    private let state = Mutex(State())

    init(maxBatch: Int = 256, write: @escaping Write) {
        self.maxBatch = maxBatch
        self.write = write
    }

    func add(_ item: Item) {
        let starts = state.withLock { state in
            state.pending.append(item)
            if state.writing { return false }
            state.writing = true
            return true
        }
        if starts { Task { await self.drain() } }
    }

    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Item] in
                let batch = Array(state.pending.prefix(maxBatch))
                state.pending.removeFirst(batch.count)
                if batch.isEmpty { state.writing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            try? await write(batch)
        }
    }
}
