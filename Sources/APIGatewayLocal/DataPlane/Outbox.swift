import NIOCore
import NIOWebSocket
import Synchronization

/// What goes to one client, bounded in bytes.
///
/// Everything sent to a client (posts, replies, error frames, pongs) is offered here and written
/// to its channel at once; the bytes count until NIO has handed them to the socket. A client that
/// stops reading leaves them counted; an offer past ``limit`` is refused, which `@connections`
/// answers with `429 LimitExceededException` as AWS does when a client's buffer is full. The
/// close frame is never refused: it goes after what is queued, the socket closes once it is
/// written, and nothing is accepted after it. No task waits per connection: the channel's own
/// write queue is the buffer, so an idle connection costs nothing here.
final class Outbox: Sendable {
    /// What ``offer(_:)`` made of a frame.
    enum Offer: Equatable {
        case queued
        case full
        case closed
    }

    private struct State {
        var bytes = 0
        var closing = false
        var closeWritten: EventLoopFuture<Void>?
    }

    /// Bytes of payload that may wait at once.
    let limit: Int
    /// How long a client gets to read the close frame before the socket is cut.
    let closeTimeout: TimeAmount
    private let channel: any Channel
    private let state = Mutex(State())

    init(limit: Int, closeTimeout: Duration, channel: any Channel) {
        self.limit = limit
        self.closeTimeout = TimeAmount(closeTimeout)
        self.channel = channel
    }

    /// Bytes not yet handed to the socket.
    var queuedBytes: Int { state.withLock { $0.bytes } }

    /// Writes `frame` unless the buffer is full or the connection is closing.
    func offer(_ frame: WebSocketFrame) -> Offer {
        let length = frame.length
        let offer = state.withLock { state -> Offer in
            guard !state.closing else { return .closed }
            guard state.bytes + length <= limit else { return .full }
            state.bytes += length
            return .queued
        }
        guard offer == .queued else { return offer }
        channel.writeAndFlush(frame).whenComplete { _ in
            self.state.withLock { $0.bytes -= length }
        }
        return .queued
    }

    /// Writes the close frame after everything queued, then closes the socket, at the latest
    /// after ``closeTimeout`` (a client that does not read is cut off); later offers are
    /// refused. Only the first close counts: `true` when this call was it.
    @discardableResult
    func close(with frame: WebSocketFrame) -> Bool {
        let channel = self.channel
        let promise = state.withLock { state -> EventLoopPromise<Void>? in
            guard !state.closing else { return nil }
            state.closing = true
            let promise = channel.eventLoop.makePromise(of: Void.self)
            state.closeWritten = promise.futureResult
            return promise
        }
        guard let promise else { return false }
        promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
        channel.writeAndFlush(frame, promise: promise)
        channel.eventLoop.scheduleTask(in: closeTimeout) { channel.close(promise: nil) }
        return true
    }

    /// Nothing more is accepted (the socket has gone).
    func finish() { state.withLock { $0.closing = true } }

    /// Waits until the close frame, if one was sent, has been written (or failed to be).
    func closeFrameWritten() async {
        guard let written = state.withLock({ $0.closeWritten }) else { return }
        _ = try? await written.get()
    }
}
