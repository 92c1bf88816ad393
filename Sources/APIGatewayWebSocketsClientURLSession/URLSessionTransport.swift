public import APIGatewayWebSocketsClient
public import Foundation
#if canImport(FoundationNetworking)
public import FoundationNetworking
#endif
import Synchronization

/// ``GatewayTransport`` over `URLSessionWebSocketTask`, for apps on Apple platforms, where
/// URLSession brings the system's proxies, certificates and network policies along:
///
/// ```swift
/// let client = GatewayClient(url: url, configuration: .init(channels: ["lobby"]), transport: URLSessionTransport())
/// ```
///
/// On Linux, Foundation's URLSession speaks WebSocket only when its libcurl was built with
/// WebSocket support; when it was not, the handshake fails with that reason. There the client's
/// default, ``WebSocketKitTransport``, is the one to use.
public struct URLSessionTransport: GatewayTransport {
    private let configuration: URLSessionConfiguration
    private let maximumMessageSize: Int

    /// - Parameters:
    ///   - configuration: the sessions' configuration (each connection has a session of its own).
    ///   - maximumMessageSize: the largest message taken from the server, in bytes.
    public init(configuration: URLSessionConfiguration = .default, maximumMessageSize: Int = 1 << 20) {
        self.configuration = configuration
        self.maximumMessageSize = maximumMessageSize
    }

    public func open(_ url: URL, headers: [(String, String)], timeout: Duration) async throws -> any GatewayConnection {
        var request = URLRequest(url: url)
        request.timeoutInterval = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        for (name, value) in headers { request.addValue(value, forHTTPHeaderField: name) }
        let handshake = Handshake()
        let session = URLSession(configuration: configuration, delegate: handshake, delegateQueue: nil)
        let task = session.webSocketTask(with: request)
        task.maximumMessageSize = maximumMessageSize
        do {
            try await handshake.wait(for: task, timeout: timeout)
        } catch {
            task.cancel()
            session.invalidateAndCancel()
            throw error
        }
        return URLSessionConnection(session: session, task: task)
    }
}

/// Settles the handshake once: opened, failed, or out of time.
private final class Handshake: NSObject, URLSessionWebSocketDelegate, Sendable {
    private let waiter = Mutex<(CheckedContinuation<Void, any Error>?, settled: Result<Void, GatewayTransportError>?)>((nil, nil))

    func wait(for task: URLSessionWebSocketTask, timeout: Duration) async throws {
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.settle(.failure(GatewayTransportError(description: "no answer to the handshake within \(timeout)")))
        }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let early = waiter.withLock { state -> Result<Void, GatewayTransportError>? in
                    if let settled = state.settled { return settled }
                    state.0 = continuation
                    return nil
                }
                if let early { continuation.resume(with: early) } else { task.resume() }
            }
        } onCancel: {
            self.settle(.failure(GatewayTransportError(description: "the handshake was cancelled")))
        }
    }

    private func settle(_ result: Result<Void, GatewayTransportError>) {
        let continuation = waiter.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard state.settled == nil else { return nil }
            state.settled = result
            defer { state.0 = nil }
            return state.0
        }
        continuation?.resume(with: result)
    }

    func urlSession(_ session: URLSession, webSocketTask: URLSessionWebSocketTask, didOpenWithProtocol protocol: String?) {
        settle(.success(()))
    }

    func urlSession(
        _ session: URLSession, webSocketTask: URLSessionWebSocketTask, didCloseWith closeCode: URLSessionWebSocketTask.CloseCode, reason: Data?
    ) {
        settle(.failure(GatewayTransportError(description: "the server closed the connection (\(closeCode.rawValue)) during the handshake")))
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let reason = error.map { ($0 as NSError).localizedDescription } ?? "the connection closed"
        let status = (task.response as? HTTPURLResponse).map { " (HTTP \($0.statusCode))" } ?? ""
        settle(.failure(GatewayTransportError(description: "the handshake failed\(status): \(reason)")))
    }
}

/// One open `URLSessionWebSocketTask`; its text (and UTF-8 binary) messages make ``inbound``.
private struct URLSessionConnection: GatewayConnection {
    let session: URLSession
    let task: URLSessionWebSocketTask
    let inbound: AsyncStream<String>

    init(session: URLSession, task: URLSessionWebSocketTask) {
        self.session = session
        self.task = task
        let (inbound, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        self.inbound = inbound
        let reading = Task { [task] in
            while true {
                switch try? await task.receive() {
                case .string(let text): continuation.yield(text)
                case .data(let data): continuation.yield(String(decoding: data, as: UTF8.self))
                case .none: continuation.finish(); session.finishTasksAndInvalidate(); return
                @unknown default: continuation.finish(); session.finishTasksAndInvalidate(); return
                }
            }
        }
        continuation.onTermination = { _ in reading.cancel() }
    }

    func send(_ text: String) async throws { try await task.send(.string(text)) }

    func close() async {
        task.cancel(with: .normalClosure, reason: nil)
        session.finishTasksAndInvalidate()
    }
}
