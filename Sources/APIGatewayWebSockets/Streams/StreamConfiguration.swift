/// Ordered streams for channels and users: every message sent to a channel or a user is kept
/// with its position, so a client that was away resumes where it was (`join` with `since`,
/// `resume`), and a publish from outside a request (a worker, a command, `POST /ws/publish`) is
/// delivered after commit, at least once.
///
/// ```swift
/// configuration.streams = StreamConfiguration(retention: StreamRetention(messages: 500, age: .seconds(7200)))
/// ```
public struct StreamConfiguration: Sendable {
    /// How much history each stream keeps.
    public var retention: StreamRetention
    /// How long an instance delivering its own publish holds the message before the delivery
    /// worker (of any instance) takes it over, as after a crash. Default 30 seconds.
    public var claimTimeout: Duration
    /// Most messages one `join` with `since` (or `resume`) replays; a client further behind hears
    /// `"recovered": false`. Default 1,000.
    public var maximumReplay: Int
    /// Most messages one `history` answers. Default 100.
    public var maximumHistory: Int

    public init(
        retention: StreamRetention = StreamRetention(), claimTimeout: Duration = .seconds(30), maximumReplay: Int = 1000,
        maximumHistory: Int = 100
    ) {
        precondition(claimTimeout > .zero && maximumReplay > 0 && maximumHistory > 0, "stream limits are positive")
        self.retention = retention
        self.claimTimeout = claimTimeout
        self.maximumReplay = maximumReplay
        self.maximumHistory = maximumHistory
    }
}

extension StreamError: RefusalConvertible {
    /// A message that cannot go into a stream, or streams that are off: a 400 with the reason.
    public var refusal: Refusal {
        let code: Refusal.Code = self == .off ? .streamsOff : self == .notAnObject ? .notAStreamMessage : .custom
        return Refusal(code: code, status: .badRequest, reason: description, detail: description)
    }
}
