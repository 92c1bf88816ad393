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
    ///
    /// Read as bytes: it comes with every event, and splitting it into `Substring`s and checking
    /// `Character`s cost more than the rest of the event's guards together.
    public init?(_ header: String) {
        var header = header
        guard let fields = header.withUTF8(Self.fields) else { return nil }
        (root, traceID, parentID, sampled) = fields
    }

    private static func fields(_ bytes: UnsafeBufferPointer<UInt8>) -> (String, String, String?, Bool)? {
        var root: Range<Int>?
        var parent: Range<Int>?
        var sampled = false
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: ";") { end += 1 }
            var key = start
            while key < end, bytes[key] == UInt8(ascii: " ") { key += 1 }
            if let equals = (key..<end).first(where: { bytes[$0] == UInt8(ascii: "=") }) {
                let name = UnsafeBufferPointer(rebasing: bytes[key..<equals])
                let value = equals + 1..<end
                if name.elementsEqual("Root".utf8) {
                    root = value
                } else if name.elementsEqual("Parent".utf8) {
                    parent = value
                } else if name.elementsEqual("Sampled".utf8) {
                    sampled = value.count == 1 && bytes[value.lowerBound] == UInt8(ascii: "1")
                }
            }
            start = end + 1
        }
        // Root: `1-` then the 8 hex digits of the epoch, `-`, the 24 of the unique part.
        guard let root, root.count == 35, bytes[root.lowerBound] == UInt8(ascii: "1"),
            bytes[root.lowerBound + 1] == UInt8(ascii: "-"), bytes[root.lowerBound + 10] == UInt8(ascii: "-"),
            let traceID = lowercaseHex(bytes, [root.lowerBound + 2..<root.lowerBound + 10, root.lowerBound + 11..<root.upperBound])
        else { return nil }
        var parentID: String?
        if let parent {
            guard parent.count == 16, let hex = lowercaseHex(bytes, [parent]) else { return nil }
            parentID = hex
        }
        return (String(decoding: UnsafeBufferPointer(rebasing: bytes[root]), as: UTF8.self), traceID, parentID, sampled)
    }

    /// The hex digits in `ranges`, lowercased and joined; `nil` when one is not a hex digit or all are zero.
    private static func lowercaseHex(_ bytes: UnsafeBufferPointer<UInt8>, _ ranges: [Range<Int>]) -> String? {
        var digits: [UInt8] = []
        digits.reserveCapacity(32)
        var nonzero = false
        for range in ranges {
            for byte in bytes[range] {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): digits.append(byte)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digits.append(byte + 32)
                default: return nil
                }
                nonzero = nonzero || byte != UInt8(ascii: "0")
            }
        }
        return nonzero ? String(decoding: digits, as: UTF8.self) : nil
    }

    /// The W3C `traceparent` value continuing this trace, when there is a parent span.
    public var traceparent: String? {
        parentID.map { "00-\(traceID)-\($0)-\(sampled ? "01" : "00")" }
    }
}
