/// Where a stage's `@connections` API lives: `https://{apiID}.execute-api.{region}.amazonaws.com/{stage}`,
/// a custom domain with its base path, or any override (moto serves it at its root, the local
/// gateway at `http://127.0.0.1:PORT/{stage}`).
public struct ManagementEndpoint: Sendable, Hashable, CustomStringConvertible {
    public let scheme: String
    /// Lowercased host, without the port.
    public let host: String
    public let port: Int?
    /// The path before `/@connections`, without a trailing slash: `/prod`, `/chat/v1`, or empty.
    public let basePath: String

    /// Parses `scheme://host[:port][/base/path]`.
    /// - Throws: ``ManagementEndpointError`` for anything else.
    public init(url: String) throws(ManagementEndpointError) {
        guard let split = URLSplit(url) else { throw .noScheme(url) }
        let scheme = split.scheme.lowercased()
        guard scheme == "http" || scheme == "https" else { throw .badScheme(url) }
        var path = String(split.rest)
        if split.authority.contains("@") || path.contains("?") || path.contains("#") { throw .extraParts(url) }
        guard let authority = Authority(split.authority) else { throw .noHost(url) }
        var port: Int?
        if let digits = authority.port {
            guard let number = Int(digits), (1...65535).contains(number) else { throw .badPort(url) }
            port = number
        }
        let host = authority.host
        guard !host.isEmpty else { throw .noHost(url) }
        while path.hasSuffix("/") { path.removeLast() }
        self.scheme = scheme
        self.host = host
        self.port = port == (scheme == "https" ? 443 : 80) ? nil : port
        self.basePath = path
    }

    /// The AWS form for an API's stage.
    ///
    /// Built from its parts, never parsed: whatever the strings hold, this cannot fail (a stage or
    /// region that API Gateway would refuse is the caller's to check, as `registerGateway` does).
    public static func aws(apiID: String, region: String, stage: String) -> ManagementEndpoint {
        ManagementEndpoint(
            scheme: "https", host: "\(apiID).execute-api.\(region).\(AWSPartition(region: region).dnsSuffix)", basePath: "/" + stage)
    }

    /// An endpoint from its parts, unparsed: `basePath` is `""` or starts with `/`, without a
    /// trailing slash.
    public init(scheme: String, host: String, port: Int? = nil, basePath: String) {
        self.scheme = scheme.lowercased()
        self.host = host.lowercased()
        self.port = port == (self.scheme == "https" ? 443 : 80) ? nil : port
        self.basePath = basePath
    }

    /// The `Host` header value: the port only when it is not the scheme's default.
    public var hostHeader: String { port.map { "\(host):\($0)" } ?? host }

    /// `scheme://host[:port]`.
    public var origin: String { "\(scheme)://\(hostHeader)" }

    /// The wire path for a connection: `{basePath}/@connections/{id}`, the id's `=` as `%3D`
    /// (the only character of API Gateway's id alphabet that needs encoding).
    public func path(forConnection id: String) -> String {
        var path = basePath + "/@connections/"
        path.reserveCapacity(path.utf8.count + id.utf8.count + 6)
        for character in id.unicodeScalars {
            if character == "=" { path += "%3D" } else { path.unicodeScalars.append(character) }
        }
        return path
    }

    public var description: String { origin + basePath }
}

/// Encoded as its URL, decoded by parsing it.
extension ManagementEndpoint: Codable {
    public init(from decoder: any Decoder) throws {
        let url = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(url: url) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

public struct ManagementEndpointError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case noScheme, badScheme, extraParts, badPort, noHost
    }

    private let kind: Kind
    /// The URL as given.
    public let url: String

    static func noScheme(_ url: String) -> Self { Self(kind: .noScheme, url: url) }
    static func badScheme(_ url: String) -> Self { Self(kind: .badScheme, url: url) }
    static func extraParts(_ url: String) -> Self { Self(kind: .extraParts, url: url) }
    static func badPort(_ url: String) -> Self { Self(kind: .badPort, url: url) }
    static func noHost(_ url: String) -> Self { Self(kind: .noHost, url: url) }

    public var description: String {
        let reason =
            switch kind {
            case .noScheme: "no scheme"
            case .badScheme: "scheme must be http or https"
            case .extraParts: "no user info, query or fragment allowed"
            case .badPort: "bad port"
            case .noHost: "no host"
            }
        return "invalid @connections endpoint '\(url)': \(reason)"
    }
}
