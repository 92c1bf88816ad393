import Foundation
import NIOCore
import NIOWebSocket
import Synchronization

/// One client connection the local gateway holds.
struct LocalConnection: Sendable {
    let id: String
    let apiId: String
    let stage: String
    let channel: any Channel
    let connectedAt: Date
    var lastActiveAt: Date
    let sourceIp: String
    let userAgent: String?
    let domainName: String
}

/// Why a connection closed: what `$disconnect` reports as `disconnectStatusCode` and `disconnectReason`.
struct CloseCause: Sendable, Hashable {
    let code: Int
    let reason: String

    static let clientWithoutStatus = CloseCause(code: 1005, reason: "Client-side close frame status not set")
    static let deletedByBackend = CloseCause(code: 1000, reason: "Connection Closed Normally")
    static let idle = CloseCause(code: 1001, reason: "Going away")
    static let maximumDuration = CloseCause(code: 1001, reason: "Going away")
    static let tooBig = CloseCause(code: 1009, reason: "Message too big")
    static let binary = CloseCause(code: 1003, reason: "Unsupported data")
    static let abnormal = CloseCause(code: 1006, reason: "")
}

/// The live connections, by id, with the cause each one is closing for.
final class ConnectionRegistry: Sendable {
    private struct State {
        var connections: [String: LocalConnection] = [:]
        var closing: [String: CloseCause] = [:]
    }

    private let state = Mutex(State())

    func add(_ connection: LocalConnection) { state.withLock { $0.connections[connection.id] = connection } }

    func get(_ id: String) -> LocalConnection? { state.withLock { $0.connections[id] } }

    var all: [LocalConnection] { state.withLock { Array($0.connections.values) } }

    var count: Int { state.withLock { $0.connections.count } }

    /// Records activity (a frame either way), resetting the idle timer.
    func touch(_ id: String, at date: Date) {
        state.withLock { state in state.connections[id]?.lastActiveAt = date }
    }

    /// Notes why `id` is about to close; the first cause given wins.
    func markClosing(_ id: String, cause: CloseCause) {
        state.withLock { state in
            if state.closing[id] == nil { state.closing[id] = cause }
        }
    }

    /// Removes `id`, returning it and the cause it closed for (the client's, unless noted).
    func remove(_ id: String, fallback: CloseCause) -> (LocalConnection, CloseCause)? {
        state.withLock { state in
            guard let connection = state.connections.removeValue(forKey: id) else { return nil }
            let cause = state.closing.removeValue(forKey: id) ?? fallback
            return (connection, cause)
        }
    }
}

/// A fresh id in API Gateway's shape: 16 characters of URL-safe base64 ending in `=`.
func makeConnectionID() -> String {
    let bytes = (0..<11).map { _ in UInt8.random(in: 0...255) }
    return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
}

/// `Ti89OF32joEFbiA=`-shaped request ids.
func makeRequestID() -> String { makeConnectionID() }

/// `Root=1-{epoch hex}-{24 hex}`.
func makeTraceID(_ date: Date) -> String {
    let random = String(UInt64.random(in: 0...UInt64.max), radix: 16) + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    let padded = String(repeating: "0", count: max(0, 24 - random.count)) + random
    return "Root=1-\(String(UInt32(date.timeIntervalSince1970), radix: 16))-\(padded.prefix(24))"
}

/// API Gateway's error frames: note the spacing, a space after the first colon only.
func errorFrame(_ message: String, connectionId: String, requestId: String) -> String {
    #"{"message": "\#(message)", "connectionId":"\#(connectionId)", "requestId":"\#(requestId)"}"#
}
