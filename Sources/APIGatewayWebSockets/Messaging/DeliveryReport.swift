/// What one send achieved: how many recipients got the message, which were gone, which failed.
public struct DeliveryReport: Sendable, Hashable, CustomStringConvertible {
    /// A recipient that could not be reached for a reason other than being gone.
    public struct Failure: Sendable, Hashable {
        public let connectionID: ConnectionID
        public let reason: String
    }

    /// Failures kept in ``failures``; the rest are only counted.
    public static let keptFailures = 100

    public internal(set) var sent = 0
    /// Connections API Gateway no longer holds; the store marked them disconnected.
    public internal(set) var gone: [ConnectionID] = []
    /// How many posts failed for another reason.
    public internal(set) var failedCount = 0
    /// The first ``keptFailures`` of them, with reasons.
    public internal(set) var failures: [Failure] = []
    public internal(set) var elapsed: Duration = .zero

    public init() {}

    /// Recipients the messenger tried.
    public var attempted: Int { sent + gone.count + failedCount }

    /// Adds `other`'s recipients to this report's.
    mutating func add(_ other: DeliveryReport) {
        sent += other.sent
        gone += other.gone
        failedCount += other.failedCount
        failures += other.failures.prefix(Self.keptFailures - failures.count)
        elapsed += other.elapsed
    }

    mutating func recordFailure(_ id: ConnectionID, reason: String) {
        failedCount += 1
        if failures.count < Self.keptFailures {
            failures.append(Failure(connectionID: id, reason: reason))
        }
    }

    public var description: String {
        "sent \(sent), gone \(gone.count), failed \(failedCount) in \(elapsed)"
    }
}
