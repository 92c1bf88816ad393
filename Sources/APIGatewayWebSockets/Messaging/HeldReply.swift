import NIOCore
import Synchronization

/// The sender's first message on a two-way route, held to travel in the integration response
/// instead of an `@connections` post.
///
/// API Gateway sends the response after the handler returns, so what is held arrives after any
/// post the handler made. To keep the sender's own messages in order, a second message to the
/// sender posts the held one first, then itself; messages to others are not held back.
final class HeldReply: Sendable {
    private enum State {
        case open
        case held(ByteBuffer)
        case spent
    }

    /// What to do with a message to the sender.
    enum Offer {
        /// It is held: it leaves with the response.
        case held
        /// Post these, in order: the one held before it, then itself.
        case post([ByteBuffer])
    }

    private let state = Mutex(State.open)

    func offer(_ bytes: ByteBuffer) -> Offer {
        state.withLock { state in
            switch state {
            case .open:
                state = .held(bytes)
                return .held
            case .held(let earlier):
                state = .spent
                return .post([earlier, bytes])
            case .spent:
                return .post([bytes])
            }
        }
    }

    /// The held message, for the response; nothing is held after.
    func take() -> ByteBuffer? {
        state.withLock { state in
            defer { state = .spent }
            if case .held(let bytes) = state { return bytes }
            return nil
        }
    }
}
