/// The one percent-decoder and query parser of the package: SigV4's canonical query, the core's
/// `GatewayRequest.queryParameter`, the local gateway's control plane and its request mappings.

/// One `name=value` pair of a query string, still percent-encoded; `value` is `nil` for a bare
/// `name`.
package struct QueryItem: Sendable {
    package let name: Substring
    package let value: Substring?
}

/// The pairs of `query` in order, split at each `&` and at the first `=` of each pair; empty
/// pairs are skipped.
package func queryItems(_ query: Substring) -> [QueryItem] {
    query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
        guard let equals = pair.firstIndex(of: "=") else { return QueryItem(name: pair, value: nil) }
        return QueryItem(name: pair[..<equals], value: pair[pair.index(after: equals)...])
    }
}

/// The first value of the parameter `name` in `query`, decoded; `""` for a bare name, `nil` when
/// absent.
/// - Parameter plusAsSpace: read `+` as a space, as HTML forms and browsers write queries.
package func queryValue(_ name: String, in query: Substring, plusAsSpace: Bool) -> String? {
    for item in queryItems(query) where percentDecode(item.name, plusAsSpace: plusAsSpace) == name {
        return item.value.map { percentDecode($0, plusAsSpace: plusAsSpace) } ?? ""
    }
    return nil
}

/// Decodes `%XX` escapes, leniently: a `%` not followed by two hex digits stays as it is, and
/// so do the bytes after it (`100%zz` stays `100%zz`). `+` stays `+` unless `plusAsSpace` (SigV4
/// reads queries literally; forms write a space as `+`).
package func percentDecode(_ text: Substring, plusAsSpace: Bool = false) -> String {
    guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) else {
        return String(text)
    }
    let input = Array(text.utf8)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(input.count)
    var index = 0
    while index < input.count {
        let byte = input[index]
        if byte == UInt8(ascii: "%"), index + 2 < input.count, let high = hexNibble(input[index + 1]),
            let low = hexNibble(input[index + 2])
        {
            bytes.append(high << 4 | low)
            index += 3
            continue
        }
        bytes.append(plusAsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
        index += 1
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// RFC 3986's unreserved set: `A–Z a–z 0–9 - _ . ~`.
@inline(__always)
package func isUnreserved(_ byte: UInt8) -> Bool {
    (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
        || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "~")
}

/// The value of one hex digit.
package func hexNibble(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: byte - 0x30
    case 0x41...0x46: byte - 0x41 + 10
    case 0x61...0x66: byte - 0x61 + 10
    default: nil
    }
}
