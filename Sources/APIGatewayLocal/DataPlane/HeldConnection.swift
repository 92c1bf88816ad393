import Foundation
import NIOCore
import NIOWebSocket
import Synchronization

/// A complete message from a held connection, for the gateway's message runner.
struct HeldMessage: Sendable {
    let text: ByteBuffer
    let connection: LocalConnection
    /// Tells the connection's handler, on its event loop, that the message has been answered.
    let answered: @Sendable () -> Void
}

/// A held connection that has closed, for its `$disconnect`.
struct EndedConnection: Sendable {
    let context: EventContext
    let cause: CloseCause
}

/// The gateway's held WebSocket connections, counted, and the work they hand over: each message
/// and each `$disconnect` runs as a task of the gateway's own (``LocalGateway/serve(_:)``), so a
/// connection with nothing in flight has no task at all, only its channel's handlers.
final class HeldConnections: Sendable {
    private struct State {
        var held = 0
        var acceptingEnded = false
    }

    let messages: AsyncStream<HeldMessage>
    let ended: AsyncStream<EndedConnection>
    private let messageSink: AsyncStream<HeldMessage>.Continuation
    private let endedSink: AsyncStream<EndedConnection>.Continuation
    private let state = Mutex(State())

    init() {
        (messages, messageSink) = AsyncStream.makeStream()
        (ended, endedSink) = AsyncStream.makeStream()
    }

    /// One more connection is held; its `$disconnect` must run before the gateway returns.
    func hold() { state.withLock { $0.held += 1 } }

    /// Hands a message over; `false` when the gateway has stopped running them.
    func run(_ message: HeldMessage) -> Bool {
        if case .enqueued = messageSink.yield(message) { return true }
        return false
    }

    /// The connection has closed: its `$disconnect` is to be called.
    func end(_ connection: EndedConnection) { endedSink.yield(connection) }

    /// A `$disconnect` was called: one connection fewer.
    func disconnected() { finishIfDone { $0.held -= 1 } }

    /// No connection will be accepted any more.
    func acceptingEnded() { finishIfDone { $0.acceptingEnded = true } }

    /// Once nothing is accepted and every held connection has had its `$disconnect`, both streams
    /// end: the messages still in flight are abandoned (shutdown drained what it waits for).
    private func finishIfDone(_ change: (inout State) -> Void) {
        let done = state.withLock { state in
            change(&state)
            return state.acceptingEnded && state.held == 0
        }
        if done {
            messageSink.finish()
            endedSink.finish()
        }
    }
}

/// Reads one held connection's frames on its event loop.
///
/// Complete messages go to the gateway's message runner, at most `maximumConcurrentMessages` at
/// once: past that, the handler stops asking the socket for more (and queues what one read
/// already brought) until an answer comes. Pings are answered, a client's close is echoed, a
/// rule broken closes the connection. When the channel goes, what the client sent before it left
/// still goes to the backend, and once every message of the connection has been answered, its
/// `$disconnect` is handed over with its cause (as the read loop before it did: API Gateway lets
/// the backend answer a message before it learns of the disconnect). Frames that arrive before
/// ``start(_:)`` (between the upgrade and the connection's registration) wait for it, and no more
/// is read meanwhile.
final class HeldConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// What the gateway gives a connection once it is registered.
    struct Holder {
        let gateway: LocalGateway
        let connection: LocalConnection
        let context: EventContext
    }

    private var holder: Holder?
    private var assembler: MessageAssembler
    private let maximumInFlight: Int
    private let frameError: FrameErrorBox
    private var early: [WebSocketFrame] = []
    private var waiting: [ByteBuffer] = []
    private var inFlight = 0
    private var readPending = false
    private var clientCause = CloseCause.abnormal
    private var inactive = false
    /// `false` once the client closed or broke a rule: what follows is not read.
    private var reading = true
    /// The channel has gone: the `$disconnect` waits for the messages in flight.
    private var ending = false
    private var handedOver = false
    private var context: ChannelHandlerContext?

    init(maximumMessageSize: Int, maximumConcurrentMessages: Int, frameError: FrameErrorBox) {
        self.assembler = MessageAssembler(limit: maximumMessageSize)
        self.maximumInFlight = max(1, maximumConcurrentMessages)
        self.frameError = frameError
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Starts serving, on the channel's event loop: the frames that came early first.
    func start(_ holder: Holder) {
        self.holder = holder
        let early = self.early
        self.early = []
        for frame in early { take(frame) }
        if inactive {
            end()
        } else if readPending {
            readPending = false
            context?.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard holder != nil else {
            early.append(frame)
            return
        }
        take(frame)
    }

    func channelInactive(context: ChannelHandlerContext) {
        inactive = true
        if holder != nil { end() }
        context.fireChannelInactive()
    }

    /// Holds reads back while the connection is not started or has its most messages in flight.
    func read(context: ChannelHandlerContext) {
        if holder == nil || inFlight >= maximumInFlight {
            readPending = true
        } else {
            context.read()
        }
    }

    private func take(_ frame: WebSocketFrame) {
        guard let holder, reading else { return }
        let gateway = holder.gateway
        let connection = holder.connection
        gateway.connections.touch(connection.id, at: gateway.configuration.clock.now())
        switch assembler.take(frame) {
        case .none:
            break
        case .message(let text):
            if inFlight >= maximumInFlight && !inactive {
                waiting.append(text)
            } else {
                hand(text)
            }
        case .ping(let data):
            _ = connection.outbox.offer(WebSocketFrame(fin: true, opcode: .pong, data: data))  // dropped when full
        case .closed(let cause, let echo):
            reading = false
            clientCause = cause
            var data = ByteBuffer()
            data.writeInteger(UInt16(echo))
            connection.outbox.close(with: WebSocketFrame(fin: true, opcode: .connectionClose, data: data))
        case .violation(let cause):
            reading = false
            gateway.close(connection, cause: cause)
        }
    }

    /// Hands a message to the runner, unless the gateway is draining.
    private func hand(_ text: ByteBuffer) {
        guard let holder else { return }
        let gateway = holder.gateway
        guard gateway.beginMessage() else {
            gateway.logger.debug("message dropped: the gateway is stopping", metadata: ["apigw.connection.id": "\(holder.connection.id)"])
            return
        }
        inFlight += 1
        let eventLoop = holder.connection.channel.eventLoop
        let me = NIOLoopBound(self, eventLoop: eventLoop)
        let message = HeldMessage(text: text, connection: holder.connection) {
            eventLoop.execute { me.value.answered() }
        }
        if !gateway.held.run(message) {
            inFlight -= 1
            gateway.endMessage()
        }
    }

    /// A message was answered: the next one waiting goes, and reading resumes below the limit;
    /// once the channel has gone and the last one is answered, the `$disconnect` goes.
    private func answered() {
        inFlight -= 1
        if !waiting.isEmpty {
            hand(waiting.removeFirst())
        }
        if ending {
            if inFlight == 0 { handOver() }
        } else if readPending, inFlight < maximumInFlight, waiting.isEmpty, let context {
            readPending = false
            context.read()
        }
    }

    /// The channel has gone: nothing more is written to it; what the client sent before it left
    /// goes to the backend, and the `$disconnect` follows the last answer.
    private func end() {
        guard holder != nil, !ending else { return }
        ending = true
        holder?.connection.outbox.finish()
        let left = waiting
        waiting = []
        for text in left { hand(text) }
        // Shutting down, the drain has already waited for the messages it waits for.
        if inFlight == 0 || holder?.gateway.isStopping == true { handOver() }
    }

    /// The connection leaves the registry and its `$disconnect` is handed over.
    private func handOver() {
        guard let holder, !handedOver else { return }
        handedOver = true
        holder.gateway.end(holder.connection, context: holder.context, clientCause: clientCause, frameError: frameError)
    }
}
