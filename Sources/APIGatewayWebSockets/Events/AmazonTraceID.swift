/// API Gateway's `X-Amzn-Trace-Id`: `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`.
///
/// Its root is a 128-bit trace id (the 8 hex digits of the epoch and the 24 of the unique part)
/// and its parent a 64-bit span id, the same sizes as W3C Trace Context's, so an event's span
/// continues API Gateway's trace in any tracer that reads `traceparent` (swift-otel does).
public struct AmazonTraceID: Sendable, Hashable {
    /// The `Root` value, as API Gateway wrote it: what log lines carry.
    public let root: String
    /// The 32 hex digits of the trace id.
    public let traceID: String
    /// The 16 hex digits of the parent span, when there is one.
    public let parentID: String?
    /// Only `Sampled=1`: a missing or undecided (`?`) flag is not a sampling decision.
    public let sampled: Bool

    /// Reads a header value; `nil` for one that is not API Gateway's shape.
    public init?(_ header: String) {
        var root: Substring?
        var parent: Substring?
        var sampled = false
        for part in header.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            switch pair[0].trimmingPrefix(" ") {
            case "Root": root = pair[1]
            case "Parent": parent = pair[1]
            case "Sampled": sampled = pair[1] == "1"
            default: continue
            }
        }
        guard let root else { return nil }
        let pieces = root.split(separator: "-")
        guard pieces.count == 3, pieces[0] == "1", pieces[1].count == 8, pieces[2].count == 24 else { return nil }
        let traceID = (pieces[1] + pieces[2]).lowercased()
        guard traceID.allSatisfy(\.isHexDigit), traceID.contains(where: { $0 != "0" }) else { return nil }
        if let parent {
            guard parent.count == 16, parent.allSatisfy(\.isHexDigit), parent.contains(where: { $0 != "0" }) else { return nil }
        }
        self.root = String(root)
        self.traceID = traceID
        self.parentID = parent.map { $0.lowercased() }
        self.sampled = sampled
    }

    /// The W3C `traceparent` value continuing this trace, when there is a parent span.
    public var traceparent: String? {
        parentID.map { "00-\(traceID)-\($0)-\(sampled ? "01" : "00")" }
    }
}
