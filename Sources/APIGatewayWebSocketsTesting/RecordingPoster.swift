public import APIGatewayWebSockets
public import NIOCore
import Synchronization

/// A ``ConnectionPoster`` that records every post instead of sending it.
///
/// Connections marked gone answer ``PostResult/gone``; connections given a failure throw it.
///
/// ```swift
/// let poster = RecordingPoster()
/// // … drive the app …
/// #expect(poster.texts(to: connection.id) == [#"{"text":"hi"}"#])
/// ```
public final class RecordingPoster: ConnectionPoster {
    /// One recorded post.
    public struct Post: Sendable, Hashable {
        public let connectionID: ConnectionID
        public let apiID: APIID
        public let stage: String
        public let payload: ByteBuffer

        /// The payload as UTF-8 text.
        public var text: String { String(buffer: payload) }
    }

    private struct State {
        var posts: [Post] = []
        var gone: Set<ConnectionID> = []
        var failures: [ConnectionID: any Error] = [:]
        var closed: [ConnectionID] = []
    }

    private let state = Mutex(State())

    public init() {}

    public func post(_ payload: Payload, to connection: ConnectionID, on gateway: GatewayRecord) async throws -> PostResult {
        try state.withLock { state in
            if let failure = state.failures[connection] { throw failure }
            if state.gone.contains(connection) { return .gone }
            state.posts.append(Post(connectionID: connection, apiID: gateway.apiID, stage: gateway.stage, payload: payload.bytes))
            return .sent
        }
    }

    public func close(_ connection: ConnectionID, on gateway: GatewayRecord) async throws -> PostResult {
        try state.withLock { state in
            if let failure = state.failures[connection] { throw failure }
            guard state.gone.insert(connection).inserted else { return .gone }
            state.closed.append(connection)
            return .sent
        }
    }

    /// The connections closed, in order; a closed connection is gone from then on.
    public var closed: [ConnectionID] { state.withLock { $0.closed } }

    /// Every post, in the order they were made.
    public var posts: [Post] { state.withLock { $0.posts } }

    /// The payloads posted to `connection`, as text, in order.
    public func texts(to connection: ConnectionID) -> [String] {
        posts.filter { $0.connectionID == connection }.map(\.text)
    }

    /// From now on, posts to `connection` answer gone, as API Gateway does once it closed.
    public func markGone(_ connection: ConnectionID) { _ = state.withLock { $0.gone.insert(connection) } }

    /// From now on, posts to `connection` throw `error`.
    public func fail(_ connection: ConnectionID, with error: any Error) { state.withLock { $0.failures[connection] = error } }

    /// Forgets the recorded posts.
    public func reset() { state.withLock { $0.posts.removeAll() } }
}
