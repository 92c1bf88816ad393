/// An error that states the refusal it is answered with, as Hummingbird's `HTTPResponseError`
/// states its status: the dispatcher turns every error of an event into its answer in one place
/// (`Refusal.answering(_:)`), so a handler, a hook or a store can throw one and be answered
/// with its status and reason. Any other error is a 500.
public protocol RefusalConvertible: Error {
    /// The status, the reason shown to the client and the detail logged.
    var refusal: Refusal { get }
}

extension Refusal: RefusalConvertible {
    public var refusal: Refusal { self }
}

extension MessagingError: RefusalConvertible {
    /// A handler's reply or send over API Gateway's 128 KiB: the handler's payload, not a failure
    /// of the server.
    public var refusal: Refusal { .replyTooLarge(self) }
}

/// The store could not do `operation`: the database is down, unreachable or out of connections.
/// Answered `503 store_unavailable`, fast, so API Gateway (or the caller) may try again.
struct StoreFailure: RefusalConvertible {
    let operation: String
    let underlying: any Error

    var refusal: Refusal { .storeUnavailable }

    /// Errors that say this side is wrong, not that the database is away: they stay 500s.
    static func isOurs(_ error: any Error) -> Bool {
        error is CancellationError || error is DecodingError || error is IdentifierError || error is EncodingError
    }
}

extension Refusal {
    /// What `error` is answered with: the refusal it states, or a 500 that names nothing inside.
    static func answering(_ error: any Error) -> Refusal {
        (error as? any RefusalConvertible)?.refusal ?? .internalError
    }

    static let internalError = Refusal(status: .internalServerError, reason: "Internal server error")
}
