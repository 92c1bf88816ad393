import Foundation
import NIOCore
public import NIOHTTP1
import NIOPosix
public import NIOWebSocket
import Synchronization
public import WebSocketKit

/// Values that arrive over time, awaited one at a time with a deadline; a wait that times out
/// leaves later values for the next wait.
public final class Inbox<Value: Sendable>: Sendable {
    private struct State {
        var values: [Value] = []
        var finished = false
        var waiter: (id: Int, continuation: CheckedContinuation<Value?, Never>)?
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func put(_ value: Value) {
        let waiter = state.withLock { state -> CheckedContinuation<Value?, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter.continuation
            }
            state.values.append(value)
            return nil
        }
        waiter?.resume(returning: value)
    }

    public func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Value?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter?.continuation
        }
        waiter?.resume(returning: nil)
    }

    public func next(timeout: Duration) async -> Value? {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                let waiter = self.state.withLock { state -> CheckedContinuation<Value?, Never>? in
                    guard state.waiter?.id == id else { return nil }
                    defer { state.waiter = nil }
                    return state.waiter?.continuation
                }
                waiter?.resume(returning: nil)
            }
            let value = await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
                let ready = state.withLock { state -> Value?? in
                    if !state.values.isEmpty { return .some(state.values.removeFirst()) }
                    if state.finished { return .some(nil) }
                    state.waiter = (id, continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
            group.cancelAll()
            return value
        }
    }
}

/// A WebSocket client on loopback whose received text frames and close code are awaited with a
/// deadline, never a fixed sleep.
public final class TestClient: Sendable {
    public let socket: WebSocket
    private let texts = Inbox<String>()
    private let closes = Inbox<Int>()

    private init(socket: WebSocket) {
        self.socket = socket
        let texts = self.texts, closes = self.closes
        socket.onText { _, text in texts.put(text) }
        socket.onClose.whenComplete { _ in
            closes.put(socket.closeCode.map(TestClient.number) ?? 1006)
            texts.finish()
        }
    }

    /// Connects; throws `WebSocketClient.Error.invalidResponseStatus` when the handshake is refused,
    /// and ``TestClientTimeout`` when it has no answer within `timeout` (WebSocketKit's connect never
    /// completes when the server drops the connection before answering the upgrade).
    /// - Parameter through: a loopback port to connect to instead of the URL's host, which is then
    ///   only the `Host` header (a custom domain without DNS), the request target in absolute form.
    public static func connect(
        _ url: String, headers: HTTPHeaders = [:], through port: Int? = nil, timeout: Duration = .seconds(15)
    ) async throws -> TestClient {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = loop.makePromise(of: TestClient.self)
        let settled = Mutex(false)
        let settle: @Sendable (Result<TestClient, any Error>) -> Void = { result in
            guard settled.withLock({ done in defer { done = true }; return !done }) else {
                if case .success(let late) = result { late.socket.close(promise: nil) }
                return
            }
            promise.completeWith(result)
        }
        var configuration = WebSocketClient.Configuration()
        configuration.maxFrameSize = 1 << 20
        WebSocket.connect(
            to: url, headers: headers, proxy: port.map { _ in "127.0.0.1" }, proxyPort: port, configuration: configuration,
            on: MultiThreadedEventLoopGroup.singleton
        ) { socket in
            settle(.success(TestClient(socket: socket)))
        }.whenFailure { settle(.failure($0)) }
        let timer = loop.scheduleTask(in: .nanoseconds(Int64(timeout / .nanoseconds(1)))) {
            settle(.failure(TestClientTimeout(url: url, timeout: timeout)))
        }
        defer { timer.cancel() }
        return try await promise.futureResult.get()
    }

    /// The next text frame, or `nil` if none arrives within `timeout` or the socket closes.
    public func next(timeout: Duration = .seconds(5)) async -> String? { await texts.next(timeout: timeout) }

    /// The close code the server sent (1006 when it just dropped), waiting up to `timeout`.
    public func closeCode(timeout: Duration = .seconds(5)) async -> Int? { await closes.next(timeout: timeout) }

    public func send(_ text: String) async throws { try await socket.send(text) }
    public func close(code: WebSocketErrorCode = .normalClosure) async throws { try await socket.close(code: code) }

    public static func number(_ code: WebSocketErrorCode) -> Int {
        var buffer = ByteBuffer()
        buffer.write(webSocketErrorCode: code)
        return Int(buffer.readInteger(as: UInt16.self) ?? 1006)
    }
}

/// A WebSocket handshake that had no answer in time.
public struct TestClientTimeout: Error, CustomStringConvertible {
    public let url: String
    public let timeout: Duration
    public var description: String { "no answer to the WebSocket handshake with \(url) within \(timeout)" }
}
