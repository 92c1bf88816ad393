/// What API Gateway is telling the backend about a connection.
public struct EventKind: Hashable, Sendable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable { case connect, message, disconnect }
    private let kind: Kind

    /// A client is opening a connection (`$connect`); the handshake waits for the answer.
    public static let connect = EventKind(kind: .connect)
    /// A client sent a message that API Gateway routed here (`$default` or a custom route).
    public static let message = EventKind(kind: .message)
    /// The connection has closed (`$disconnect`); the answer is ignored.
    public static let disconnect = EventKind(kind: .disconnect)

    /// 0, 1, 2 for connect, message, disconnect: an index for per-event tables.
    var index: Int {
        switch kind {
        case .connect: 0
        case .message: 1
        case .disconnect: 2
        }
    }

    public var description: String {
        switch kind {
        case .connect: "connect"
        case .message: "message"
        case .disconnect: "disconnect"
        }
    }
}
