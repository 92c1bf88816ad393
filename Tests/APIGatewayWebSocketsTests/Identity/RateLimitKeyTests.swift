import APIGatewayWebSockets
import Testing

/// The key a client address counts under: itself for IPv4, its /64 for IPv6.
@Suite struct RateLimitKeyTests {
    @Test(arguments: [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:0db8:0001:0002:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("[2001:db8:1:2::9]", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80:0:0:0::/64"),
        ("::1", "0:0:0:0::/64"),
        ("::ffff:198.51.100.9", "198.51.100.9"),
        ("64:ff9b::192.0.2.33", "64:ff9b:0:0::/64"),
        ("not:an:address:::", "not:an:address:::"),
        ("1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8:9"),
        ("1::2::3", "1::2::3"),
    ])
    func addressKeys(address: String, key: String) {
        #expect(RateLimitKey.address(address) == key)
    }
}
