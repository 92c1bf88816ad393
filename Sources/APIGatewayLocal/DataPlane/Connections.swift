import Foundation
import NIOCore
import NIOWebSocket
import Synchronization

/// One client connection the local gateway holds.
struct LocalConnection: Sendable {
    let id: String
    let apiId: String
    let stage: String
    /// The socket, for a close that cannot wait for the writer.
    let channel: any Channel
    /// What goes to the client, bounded.
    let outbox: Outbox
    let connectedAt: Date
    var lastActiveAt: Date
    let sourceIp: String
    let userAgent: String?
    let domainName: String
    /// Who the gateway let in: the authorizer's principal and context, the API key, the IAM caller.
    let identity: ConnectionIdentity?
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
    static let protocolError = CloseCause(code: 1002, reason: "Protocol error")
    static let invalidPayload = CloseCause(code: 1007, reason: "Invalid frame payload data")
    static let shuttingDown = CloseCause(code: 1001, reason: "Going away")

    /// The close frame that tells the client this cause.
    func frame() -> WebSocketFrame {
        var data = ByteBuffer()
        data.reserveCapacity(2 + reason.utf8.count)
        data.writeInteger(UInt16(code))
        data.writeString(reason)
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }
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

/// The TCP connections that are not (yet) WebSockets: handshakes under way and HTTP keep-alive
/// connections. A shutdown closes the idle ones at once; a busy one closes after its answer.
final class PlainChannels: Sendable {
    private struct Entry {
        let channel: any Channel
        var busy: Bool
    }

    private struct State {
        var entries: [Int: Entry] = [:]
        var nextToken = 0
        var closing = false
    }

    private let state = Mutex(State())

    /// Tracks `channel` until ``remove(_:)``; a channel arriving during shutdown is closed.
    func add(_ channel: any Channel) -> Int {
        let (token, closing) = state.withLock { state -> (Int, Bool) in
            state.nextToken += 1
            state.entries[state.nextToken] = Entry(channel: channel, busy: false)
            return (state.nextToken, state.closing)
        }
        if closing { channel.close(promise: nil) }
        return token
    }

    func setBusy(_ token: Int, _ busy: Bool) {
        state.withLock { $0.entries[token]?.busy = busy }
    }

    func remove(_ token: Int) {
        _ = state.withLock { $0.entries.removeValue(forKey: token) }
    }

    /// Closes every idle channel, now and as they become idle.
    func closeIdle() {
        let idle = state.withLock { state -> [any Channel] in
            state.closing = true
            return state.entries.values.filter { !$0.busy }.map(\.channel)
        }
        for channel in idle { channel.close(promise: nil) }
    }
}
