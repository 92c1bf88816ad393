import NIOCore
import NIOWebSocket
import Synchronization

/// The frames waiting to go to one client, bounded in bytes.
///
/// Everything sent to a client (posts, replies, error frames, pongs) is offered here and written
/// by the connection's writer as fast as the client reads. A client that stops reading fills it;
/// an offer past ``limit`` is refused, which `@connections` answers with `429
/// LimitExceededException` as AWS does when a client's buffer is full. The close frame is never
/// refused: it goes after what is queued, and nothing is accepted after it.
final class Outbox: Sendable {
    /// What ``offer(_:)`` made of a frame.
    enum Offer: Equatable {
        case queued
        case full
        case closed
    }

    private struct State {
        var frames = CircularBuffer<WebSocketFrame>()
        var bytes = 0
        var closing = false
        var finished = false
        var waiter: CheckedContinuation<WebSocketFrame?, Never>?
    }

    /// Bytes of payload that may wait at once.
    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) { self.limit = limit }

    /// Bytes waiting to be written.
    var queuedBytes: Int { state.withLock { $0.bytes } }

    /// Queues `frame` unless the buffer is full or the connection is closing.
    func offer(_ frame: WebSocketFrame) -> Offer {
        let (offer, waiter) = state.withLock { state -> (Offer, CheckedContinuation<WebSocketFrame?, Never>?) in
            guard !state.closing else { return (.closed, nil) }
            guard state.bytes + frame.length <= limit else { return (.full, nil) }
            if let waiter = state.waiter {
                state.waiter = nil
                state.bytes += frame.length
                return (.queued, waiter)
            }
            state.bytes += frame.length
            state.frames.append(frame)
            return (.queued, nil)
        }
        waiter?.resume(returning: frame)
        return offer
    }

    /// Queues the close frame after everything waiting; later offers are refused. Only the
    /// first close counts: `true` when this call was it.
    @discardableResult
    func close(with frame: WebSocketFrame) -> Bool {
        let (first, waiter) = state.withLock { state -> (Bool, CheckedContinuation<WebSocketFrame?, Never>?) in
            guard !state.closing else { return (false, nil) }
            state.closing = true
            if let waiter = state.waiter {
                state.waiter = nil
                return (true, waiter)
            }
            state.frames.append(frame)
            return (true, nil)
        }
        waiter?.resume(returning: frame)
        return first
    }

    /// The writer is done: wakes it if it waits, and drops what is left.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<WebSocketFrame?, Never>? in
            state.closing = true
            state.finished = true
            state.frames.removeAll()
            state.bytes = 0
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next frame to write, waiting for one; `nil` once finished.
    func next() async -> WebSocketFrame? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<WebSocketFrame?, Never>) in
                let ready = state.withLock { state -> WebSocketFrame?? in
                    if let frame = state.frames.popFirst() { return .some(frame) }
                    if state.finished { return .some(nil) }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            finish()
        }
    }

    /// A frame from ``next()`` has been handed to the socket: its bytes no longer count.
    func written(_ frame: WebSocketFrame) {
        state.withLock { state in
            if frame.opcode != .connectionClose { state.bytes = max(0, state.bytes - frame.length) }
        }
    }
}
