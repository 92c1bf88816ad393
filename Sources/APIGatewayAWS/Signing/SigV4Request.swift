/// An HTTP request as SigV4 sees it: what is on the wire, before signing.
public struct SigV4Request: Sendable, Hashable {
    public var method: String
    /// The `Host` value as sent: lowercase, with `:port` only when not the scheme's default.
    public var host: String
    /// The path exactly as sent on the wire, percent-encoded (e.g. `/prod/%40connections/abc%3D`).
    public var path: String
    /// The query string as sent, without `?`; empty for none.
    public var query: String
    /// Header fields in arrival order, names as sent. `Host` is added from ``host`` when absent.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(
        method: String, host: String, path: String, query: String = "", headers: [(name: String, value: String)] = [], body: [UInt8] = []
    ) {
        self.method = method
        self.host = host
        self.path = path.isEmpty ? "/" : path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The first value of the header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    public static func == (lhs: SigV4Request, rhs: SigV4Request) -> Bool {
        lhs.method == rhs.method && lhs.host == rhs.host && lhs.path == rhs.path && lhs.query == rhs.query
            && lhs.headers.elementsEqual(rhs.headers) { $0.name == $1.name && $0.value == $1.value } && lhs.body == rhs.body
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(method)
        hasher.combine(host)
        hasher.combine(path)
        hasher.combine(query)
        for header in headers {
            hasher.combine(header.name)
            hasher.combine(header.value)
        }
        hasher.combine(body)
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        utf8.count == other.utf8.count && zip(utf8, other.utf8).allSatisfy { asciiLower($0) == asciiLower($1) }
    }
}

@inline(__always)
func asciiLower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }
