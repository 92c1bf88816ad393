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
    return String(decoding: percentDecodedBytes(text.utf8, plusAsSpace: plusAsSpace, strict: false)!, as: UTF8.self)
}

/// Decodes `%XX` escapes strictly, where a value must be exact (a connection id, a path
/// segment): `nil` when an escape is malformed or the bytes are not UTF-8.
package func strictPercentDecode(_ text: some StringProtocol) -> String? {
    percentDecodedBytes(text.utf8, plusAsSpace: false, strict: true).flatMap { String(validating: $0, as: UTF8.self) }
}

/// The one decoding loop; `nil` only when `strict` and an escape is malformed.
private func percentDecodedBytes(_ input: some Collection<UInt8>, plusAsSpace: Bool, strict: Bool) -> [UInt8]? {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(input.count)
    var index = input.startIndex
    while index != input.endIndex {
        let byte = input[index]
        if byte == UInt8(ascii: "%") {
            let first = input.index(after: index)
            let second = first == input.endIndex ? first : input.index(after: first)
            if second != input.endIndex, let high = hexNibble(input[first]), let low = hexNibble(input[second]) {
                bytes.append(high << 4 | low)
                index = input.index(after: second)
                continue
            }
            if strict { return nil }
        }
        bytes.append(plusAsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
        index = input.index(after: index)
    }
    return bytes
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
