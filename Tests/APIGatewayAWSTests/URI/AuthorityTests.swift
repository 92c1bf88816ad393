import APIGatewayAWS
import Testing

/// The one URL and authority reader: origins, endpoints, absolute-form targets and `Host` headers.
@Suite struct AuthorityTests {
    @Test(arguments: [
        ("https://Example.com", "https", "Example.com", ""),
        ("http://127.0.0.1:8080/chat/v1", "http", "127.0.0.1:8080", "/chat/v1"),
        ("ws://[::1]:9000?x=1", "ws", "[::1]:9000", "?x=1"),
        ("http://a.com#frag", "http", "a.com", "#frag"),
        ("http://", "http", "", ""),
    ])
    func urlsSplitAtTheAuthority(url: String, scheme: String, authority: String, rest: String) throws {
        let split = try #require(URLSplit(url))
        #expect(split.scheme == scheme[...] && split.authority == authority[...] && split.rest == rest[...])
    }

    @Test func aURLWithoutASchemeDoesNotSplit() {
        #expect(URLSplit("example.com/path") == nil)
        #expect(URLSplit("/a/b?c") == nil)
    }

    @Test(arguments: [
        ("Example.COM", "example.com", nil),
        ("ws.example.com:8081", "ws.example.com", "8081"),
        ("[::1]", "[::1]", nil),
        ("[::1]:443", "[::1]", "443"),
        ("[FE80::1]:x", "[fe80::1]", "x"),
        ("host:", "host", ""),
        ("", "", nil),
    ] as [(String, String, String?)])
    func authoritiesSplitHostAndPort(authority: String, host: String, port: String?) throws {
        let parsed = try #require(Authority(authority))
        #expect(parsed.host == host && parsed.port.map(String.init) == port)
    }

    @Test(arguments: ["[::1", "[::1]8080", "[::1]x:80"])
    func anIPv6LiteralMustBeClosedAndFollowedOnlyByAPort(authority: String) {
        #expect(Authority(authority) == nil)
    }
}
