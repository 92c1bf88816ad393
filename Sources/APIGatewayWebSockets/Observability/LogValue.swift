/// A value a client controls (a path, a header, an error that quotes a body), made safe for one
/// log line: control characters are escaped (a `\n` is written `\n`, never a line break), so a
/// client cannot start a forged line in a plain-text log; and it is cut at `limit` characters.
///
/// ```swift
/// logger.info("refused", metadata: ["apigw.detail": "\(LogValue(refusal.detail))"])
/// ```
public struct LogValue: CustomStringConvertible, Sendable {
    public let description: String

    /// - Parameters:
    ///   - value: the text as the client sent it (decoded or not).
    ///   - limit: the most characters kept; the rest is replaced by `…`.
    public init(_ value: some StringProtocol, limit: Int = 512) {
        var escaped = ""
        escaped.reserveCapacity(min(value.utf8.count, limit) + 8)
        var count = 0
        for scalar in value.unicodeScalars {
            if count == limit {
                escaped += "…"
                break
            }
            count += 1
            switch scalar {
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case "\\": escaped += "\\\\"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}":
                escaped += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        description = escaped
    }
}
