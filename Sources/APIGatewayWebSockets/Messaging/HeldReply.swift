import NIOCore
import Synchronization

/// The sender's first message on a two-way route, held to travel in the integration response
/// instead of an `@connections` post.
///
/// API Gateway sends the response after the handler returns, so what is held arrives after any
/// post the handler made. To keep the sender's own messages in order, a second message to the
/// sender posts the held one first, then itself, and a message to the sender offered while that
/// is under way waits for it; messages to others are not held back.
final class HeldReply: Sendable {
    private enum State {
        case open
        case held(ByteBuffer)
        /// The held one is being posted; these wait for it.
        case flushing([CheckedContinuation<Void, Never>])
        case spent
    }

    /// What to do with a message to the sender.
    enum Offer {
        /// It is held: it leaves with the response.
        case held
        /// Post the one held before it, call ``flushed()``, then post it.
        case flush(ByteBuffer)
        /// Post it (after ``waitForFlush()``: the held one goes first).
        case post
    }

    private let state = Mutex(State.open)

    func offer(_ bytes: ByteBuffer) -> Offer {
        state.withLock { state in
            switch state {
            case .open:
                state = .held(bytes)
                return .held
            case .held(let earlier):
                state = .flushing([])
                return .flush(earlier)
            case .flushing, .spent:
                return .post
            }
        }
    }

    /// Returns once the held message, if it is being posted, has been.
    func waitForFlush() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                guard case .flushing(var waiting) = state else { return true }
                waiting.append(continuation)
                state = .flushing(waiting)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// The held message has been posted (or failed to be): those waiting go.
    func flushed() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            defer { state = .spent }
            if case .flushing(let waiting) = state { return waiting }
            return []
        }
        for continuation in waiting { continuation.resume() }
    }

    /// The held message, for the response; nothing is held after (a message to the sender that
    /// comes later, from a task the handler left running, is posted).
    func take() -> ByteBuffer? {
        state.withLock { state in
            switch state {
            case .held(let bytes):
                state = .spent
                return bytes
            case .open:
                state = .spent
                return nil
            case .flushing, .spent:
                return nil
            }
        }
    }
}

extension Messenger {
    /// Sends a message to the sender of a two-way route's message: held for the response if it is
    /// the first, posted otherwise, after the one held. A failed post of the held one is counted
    /// in the report and does not stop this one.
    func send(_ payload: Payload, toSender connection: ConnectionID, holding held: HeldReply, on gateway: GatewayRecord) async throws
        -> DeliveryReport
    {
        var report = DeliveryReport()
        switch held.offer(payload.bytes) {
        case .held:
            report.sent = 1
            return report
        case .flush(let earlier):
            do {
                report.add(try await send(try Payload(bytes: earlier), to: .connection(connection), on: gateway))
            } catch {
                report.recordFailure(connection, reason: "\(error)")
            }
            held.flushed()
        case .post:
            await held.waitForFlush()
        }
        report.add(try await send(payload, to: .connection(connection), on: gateway))
        return report
    }
}
