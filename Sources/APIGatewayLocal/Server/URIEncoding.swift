/// Percent-encoding as the gateway reads and forwards what clients send: strictly where a value
/// must be exact (a connection id), leniently where a client's bytes are passed on (a query).

/// `value` with its `%XX` escapes decoded, or `nil` when an escape is malformed or the bytes are
/// not UTF-8.
func percentDecoded(_ value: some StringProtocol) -> String? {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(value.utf8.count)
    var iterator = value.utf8.makeIterator()
    while let byte = iterator.next() {
        guard byte == UInt8(ascii: "%") else {
            bytes.append(byte)
            continue
        }
        guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
        bytes.append(high << 4 | low)
    }
    return String(validating: bytes, as: UTF8.self)
}

/// `value` decoded where it can be, as it is where it cannot (`%zz` stays `%zz`).
func leniently(_ value: some StringProtocol) -> String {
    percentDecoded(value) ?? String(value)
}

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
        if byte == UInt8(ascii: "%"), index + 2 < bytes.count, hexValue(bytes[index + 1]) != nil, hexValue(bytes[index + 2]) != nil {
            result.append(contentsOf: bytes[index...(index + 2)])
            index += 3
            continue
        }
        if isQuerySafe(byte) {
            result.append(byte)
        } else {
            result.append(UInt8(ascii: "%"))
            result.append(hexDigit(byte >> 4))
            result.append(hexDigit(byte & 0x0F))
        }
        index += 1
    }
    return String(decoding: result, as: UTF8.self)
}

/// `value` encoded for a query component: unreserved characters as they are, the rest `%XX`.
func queryComponent(_ value: some StringProtocol) -> String {
    var result: [UInt8] = []
    for byte in value.utf8 {
        if isUnreserved(byte) {
            result.append(byte)
        } else {
            result.append(UInt8(ascii: "%"))
            result.append(hexDigit(byte >> 4))
            result.append(hexDigit(byte & 0x0F))
        }
    }
    return String(decoding: result, as: UTF8.self)
}

/// RFC 3986's unreserved set.
func isUnreserved(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
    case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
    default: false
    }
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

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}

private func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10 }
