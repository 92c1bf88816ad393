import APIGatewayAWS

/// Percent-encoding as the gateway forwards what clients send. Decoding is the AWS module's:
/// `strictPercentDecode` where a value must be exact (a connection id, a path segment),
/// `percentDecode` where a client's bytes are passed on (it leaves a malformed escape as it is).

/// A client's query string made safe to forward: every byte a URL query may hold is kept
/// (`%XX` escapes included), every other one (`{`, `|`, a space, a lone `%`, raw UTF-8) is
/// percent-encoded, so the integration URL always parses.
func sanitizedQuery(_ query: some StringProtocol) -> String {
    let bytes = Array(query.utf8)
    var result: [UInt8] = []
    result.reserveCapacity(bytes.count)
    var index = 0
    while index < bytes.count {
        let byte = bytes[index]
        if byte == UInt8(ascii: "%"), index + 2 < bytes.count, hexNibble(bytes[index + 1]) != nil, hexNibble(bytes[index + 2]) != nil {
            result.append(contentsOf: bytes[index...(index + 2)])
            index += 3
            continue
        }
        append(byte, escapedUnless: isQuerySafe, to: &result)
        index += 1
    }
    return String(decoding: result, as: UTF8.self)
}

/// `value` encoded for a query component: unreserved characters as they are, the rest `%XX`.
func queryComponent(_ value: some StringProtocol) -> String {
    var result: [UInt8] = []
    for byte in value.utf8 { append(byte, escapedUnless: isUnreserved, to: &result) }
    return String(decoding: result, as: UTF8.self)
}

private func append(_ byte: UInt8, escapedUnless isSafe: (UInt8) -> Bool, to result: inout [UInt8]) {
    guard !isSafe(byte) else { return result.append(byte) }
    let hex = Array("0123456789ABCDEF".utf8)
    result += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
}

/// What RFC 3986 lets a query hold unescaped: unreserved, sub-delims, `:`, `@`, `/`, `?`.
private func isQuerySafe(_ byte: UInt8) -> Bool {
    if isUnreserved(byte) { return true }
    return switch byte {
    case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
        UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: ":"),
        UInt8(ascii: "@"), UInt8(ascii: "/"), UInt8(ascii: "?"):
        true
    default: false
    }
}
