public import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import WebSocketKit

/// What the client speaks WebSocket through: WebSocketKit on SwiftNIO here (Linux and Apple
/// platforms); an app on Apple platforms can serve it with `URLSessionWebSocketTask` instead.
public protocol GatewayTransport: Sendable {
    /// Opens a WebSocket to `url` with `headers` on the handshake.
    /// - Throws: when the handshake is refused or does not finish within `timeout`.
    func open(_ url: URL, headers: [(String, String)], timeout: Duration) async throws -> any GatewayConnection
}

/// One open WebSocket.
public protocol GatewayConnection: Sendable {
    /// The text frames the server sends, in order; it ends when the connection closes.
    var inbound: AsyncStream<String> { get }
    func send(_ text: String) async throws
    func close() async
}

/// A refused or failed handshake.
public struct GatewayTransportError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// ``GatewayTransport`` over WebSocketKit, on NIO's shared event loops.
public struct WebSocketKitTransport: GatewayTransport {
    public init() {}

    public func open(_ url: URL, headers: [(String, String)], timeout: Duration) async throws -> any GatewayConnection {
        let (inbound, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = loop.makePromise(of: WebSocket.self)
        let settled = Mutex(false)
        // WebSocketKit's connect never completes when the server drops the connection before
        // answering the upgrade: a timer settles it.
        let settle: @Sendable (Result<WebSocket, any Error>) -> Void = { result in
            guard settled.withLock({ done in defer { done = true }; return !done }) else {
                if case .success(let late) = result { late.close(promise: nil) }
                return
            }
            promise.completeWith(result)
        }
        var configuration = WebSocketClient.Configuration()
        configuration.maxFrameSize = 1 << 20
        WebSocket.connect(
            to: url.absoluteString, headers: HTTPHeaders(headers), configuration: configuration, on: MultiThreadedEventLoopGroup.singleton
        ) { socket in
            socket.onText { _, text in continuation.yield(text) }
            socket.onClose.whenComplete { _ in continuation.finish() }
            settle(.success(socket))
        }.whenFailure { settle(.failure(GatewayTransportError(description: "the handshake failed: \($0)"))) }
        let timer = loop.scheduleTask(in: .nanoseconds(Int64(timeout / .nanoseconds(1)))) {
            settle(.failure(GatewayTransportError(description: "no answer to the handshake within \(timeout)")))
        }
        defer { timer.cancel() }
        let socket = try await promise.futureResult.get()
        return WebSocketKitConnection(socket: socket, inbound: inbound)
    }
}

struct WebSocketKitConnection: GatewayConnection {
    let socket: WebSocket
    let inbound: AsyncStream<String>

    func send(_ text: String) async throws {
        let promise = socket.eventLoop.makePromise(of: Void.self)
        socket.send(text, promise: promise)
        try await promise.futureResult.get()
    }

    func close() async { try? await socket.close(code: .normalClosure).get() }
}
