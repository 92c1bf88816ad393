/// The one URL and authority reader of the package: origins, `@connections` endpoints, request
/// targets in absolute form and `Host` headers all split here. Nothing is decoded.

/// `scheme://authority` followed by the rest, which is empty or starts with `/`, `?` or `#`.
package struct URLSplit: Sendable {
    /// As written, not lowercased.
    package let scheme: Substring
    package let authority: Substring
    package let rest: Substring

    /// `nil` when `url` has no `://`.
    package init?(_ url: some StringProtocol) {
        let url = Substring(url)
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let afterScheme = url[schemeEnd.upperBound...]
        let end = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterScheme.endIndex
        scheme = url[..<schemeEnd.lowerBound]
        authority = afterScheme[..<end]
        rest = afterScheme[end...]
    }
}

/// `host[:port]`, where an IPv6 literal keeps its brackets: `Example.com:8080` is host
/// `example.com`, port `8080`; `[::1]:443` is host `[::1]`, port `443`.
package struct Authority: Sendable, Equatable {
    /// Lowercased.
    package let host: String
    /// The characters after the port's colon, unchecked; `nil` when there is no colon.
    package let port: Substring?

    /// `nil` for an IPv6 literal without its `]`, or with anything but `:port` after it.
    package init?(_ authority: some StringProtocol) {
        let authority = Substring(authority)
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { return nil }
            host = authority[...close].lowercased()
            port = after.isEmpty ? nil : after.dropFirst()
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon].lowercased()
            port = authority[authority.index(after: colon)...]
        } else {
            host = authority.lowercased()
            port = nil
        }
    }
}
