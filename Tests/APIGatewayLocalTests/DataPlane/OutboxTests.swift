import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import APIGatewayLocal

/// What goes to one client, bounded in bytes: full past the limit, nothing after the close.
@Suite struct OutboxTests {
    func text(_ count: Int) -> WebSocketFrame { WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(repeating: 0x61, count: count)) }

    @Test func offersPastTheLimitAreRefusedUntilTheSocketTakesThem() throws {
        let channel = EmbeddedChannel()
        let outbox = Outbox(limit: 10, closeTimeout: .seconds(1), channel: channel)
        #expect(outbox.offer(text(6)) == .queued)
        #expect(outbox.queuedBytes == 0, "an embedded channel writes at once, so the bytes are handed on")
        // A channel that does not flush keeps the bytes counted: a client that stops reading.
        try channel.pipeline.syncOperations.addHandler(HoldWrites())
        #expect(outbox.offer(text(6)) == .queued)
        #expect(outbox.offer(text(6)) == .full, "6 + 6 past 10: 429 for the poster")
        #expect(outbox.queuedBytes == 6)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func theCloseGoesLastAndNothingAfterIt() throws {
        let channel = EmbeddedChannel()
        let outbox = Outbox(limit: 100, closeTimeout: .seconds(1), channel: channel)
        #expect(outbox.close(with: WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer())))
        #expect(!outbox.close(with: WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer())), "only the first close counts")
        #expect(outbox.offer(text(1)) == .closed)
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }

    /// Keeps every write pending, as a socket whose peer does not read.
    final class HoldWrites: ChannelOutboundHandler, Sendable {
        typealias OutboundIn = NIOAny
        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {}
    }
}
