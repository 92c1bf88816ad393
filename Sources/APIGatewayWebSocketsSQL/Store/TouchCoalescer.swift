import APIGatewayWebSockets
import Foundation
import Synchronization

/// Group commit for `touch`: messages that arrive while one touch statement is running are
/// answered together by the next statement, so a busy backend pays one round trip to the
/// database per batch instead of one per message.
///
/// Every message is still counted by exactly one `UPDATE … RETURNING` that it shares with others
/// of the same API; two messages of one connection never share a statement, so each sees its
/// own count. The first caller with nothing running leads: it runs a batch of itself and whoever
/// is waiting, then wakes the next waiter to lead the following batch. No caller runs more than
/// one batch, so nobody's answer waits behind a stream of others.
final class TouchCoalescer: Sendable {
    struct Request: Sendable {
        let id: ConnectionID
        let apiID: APIID
        let date: Date
    }

    typealias Batch = @Sendable (_ ids: [ConnectionID], _ apiID: APIID, _ date: Date) async throws -> [ConnectionID: Session]

    private enum Wake: Sendable {
        case answered(Session?)
        case lead
    }

    private struct Waiter {
        let request: Request
        let continuation: CheckedContinuation<Wake, any Error>
    }

    private struct State {
        var running = false
        var waiting: [Waiter] = []
    }

    /// Most connections one statement names.
    let maxBatch: Int
    private let run: Batch
    private let state = Mutex(State())

    init(maxBatch: Int = 256, run: @escaping Batch) {
        self.maxBatch = maxBatch
        self.run = run
    }

    func touch(_ request: Request) async throws -> Session? {
        let leads = state.withLock { state in
            if state.running { return false }
            state.running = true
            return true
        }
        if !leads {
            // Deciding to wait and queueing happen under one lock: a leader that finished since
            // the check above would otherwise hand the lead to nobody, and this caller would wait
            // for the next message. Then this caller leads.
            let wake = try await withCheckedThrowingContinuation { continuation in
                let leadsNow = state.withLock { state in
                    if state.running {
                        state.waiting.append(Waiter(request: request, continuation: continuation))
                        return false
                    }
                    state.running = true
                    return true
                }
                if leadsNow { continuation.resume(returning: .lead) }
            }
            if case .answered(let session) = wake { return session }
        }
        return try await lead(request)
    }

    /// Runs one batch of `request` and compatible waiters, answers them, and hands the lead on.
    private func lead(_ request: Request) async throws -> Session? {
        let others = state.withLock { state in Self.take(compatibleWith: request, from: &state.waiting, limit: maxBatch - 1) }
        var date = request.date
        for other in others where other.request.date > date { date = other.request.date }
        let result: Result<[ConnectionID: Session], any Error>
        do {
            result = .success(try await run([request.id] + others.map(\.request.id), request.apiID, date))
        } catch {
            result = .failure(error)
        }
        for other in others {
            switch result {
            case .success(let sessions): other.continuation.resume(returning: .answered(sessions[other.request.id]))
            case .failure(let error): other.continuation.resume(throwing: error)
            }
        }
        let next = state.withLock { state -> Waiter? in
            guard !state.waiting.isEmpty else {
                state.running = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.continuation.resume(returning: .lead)
        return try result.get()[request.id]
    }

    /// Removes and returns up to `limit` waiters on the same API with ids distinct from each other
    /// and from `request`'s, oldest first.
    private static func take(compatibleWith request: Request, from waiting: inout [Waiter], limit: Int) -> [Waiter] {
        var taken: [Waiter] = []
        var ids: Set<ConnectionID> = [request.id]
        var kept: [Waiter] = []
        kept.reserveCapacity(waiting.count)
        for waiter in waiting {
            if taken.count < limit, waiter.request.apiID == request.apiID, ids.insert(waiter.request.id).inserted {
                taken.append(waiter)
            } else {
                kept.append(waiter)
            }
        }
        waiting = kept
        return taken
    }
}
