/// The key a client address counts under in a rate limit.
///
/// An IPv4 address is its own key. An IPv6 address counts under its /64 network: one subscriber
/// is routinely given a whole /64 and can rotate through its 2^64 addresses, so a per-address
/// limit keyed on the full address would limit nothing. Anything else (a name, a malformed
/// address) counts under itself.
public enum RateLimitKey {
    /// `203.0.113.9` for an IPv4 address, `2001:db8:0:1::/64` for any IPv6 address in that /64
    /// (an IPv4-mapped IPv6 address counts as its IPv4 address).
    public static func address(_ address: String) -> String {
        guard address.contains(":") else { return address }
        var text = Substring(address)
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") { text = text[text.index(after: text.startIndex)..<close] }
        if let zone = text.firstIndex(of: "%") { text = text[..<zone] }
        guard let groups = ipv6Groups(text) else { return address }
        if groups[0..<5].allSatisfy({ $0 == 0 }), groups[5] == 0xFFFF {
            return "\(groups[6] >> 8).\(groups[6] & 0xFF).\(groups[7] >> 8).\(groups[7] & 0xFF)"
        }
        let network = groups[0..<4].map { String($0, radix: 16) }.joined(separator: ":")
        return network + "::/64"
    }

    /// The eight 16-bit groups of an IPv6 address in text, `::` expanded; `nil` if it is not one.
    static func ipv6Groups(_ text: Substring) -> [UInt16]? {
        let halves = text.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
        guard halves.count <= 2, !halves.contains(where: { $0.contains("::") }) else { return nil }
        func parse(_ half: Substring) -> [UInt16]? {
            if half.isEmpty { return [] }
            var groups: [UInt16] = []
            let parts = half.split(separator: ":", omittingEmptySubsequences: false)
            for (index, part) in parts.enumerated() {
                if index == parts.count - 1, part.contains(".") {  // a trailing dotted IPv4 address
                    let octets = part.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
                    guard octets.count == 4, part.split(separator: ".", omittingEmptySubsequences: false).count == 4 else { return nil }
                    groups.append(UInt16(octets[0]) << 8 | UInt16(octets[1]))
                    groups.append(UInt16(octets[2]) << 8 | UInt16(octets[3]))
                } else {
                    guard (1...4).contains(part.count), let group = UInt16(part, radix: 16) else { return nil }
                    groups.append(group)
                }
            }
            return groups
        }
        guard let head = parse(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 8 ? head : nil }
        guard let tail = parse(halves[1]), head.count + tail.count < 8 else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }
}
