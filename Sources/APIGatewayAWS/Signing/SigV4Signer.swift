import Crypto
public import Foundation
import Synchronization

/// Signs AWS requests with Signature Version 4: the `Authorization` header, or a presigned URL.
///
/// Non-S3 rules throughout: the canonical URI is the wire path percent-encoded again (an id
/// `abc=` is `abc%3D` on the wire and `abc%253D` in the canonical request; `@connections` is
/// `%40connections`), and dot segments and repeated slashes are removed first. The signing key is
/// cached per day, region, service and secret.
///
/// ```swift
/// let signer = SigV4Signer(service: "execute-api", region: "eu-west-1")
/// var request = SigV4Request(method: "POST", host: "abc.execute-api.eu-west-1.amazonaws.com",
///                            path: "/prod/%40connections/L0SM9cOFvHcCIhw%3D", body: Array("hi".utf8))
/// signer.sign(&request, credential: credential)
/// ```
public struct SigV4Signer: Sendable {
    public let service: String
    public let region: String
    /// Remove dot segments and repeated slashes before encoding (every service but S3).
    public var normalizesPath: Bool
    /// Add and sign `x-amz-content-sha256` (S3 wants it; API Gateway neither wants nor minds it).
    public var signsPayloadHeader: Bool
    /// The clock used when no date is given.
    public var now: @Sendable () -> Date

    private let keys: SigningKeyCache

    public init(
        service: String,
        region: String,
        normalizesPath: Bool = true,
        signsPayloadHeader: Bool = false,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.service = service
        self.region = region
        self.normalizesPath = normalizesPath
        self.signsPayloadHeader = signsPayloadHeader
        self.now = now
        self.keys = SigningKeyCache()
    }

    // MARK: Header signing

    /// Adds `X-Amz-Date`, the session token (unless `omitSessionToken`), `x-amz-content-sha256`
    /// when ``signsPayloadHeader``, and `Authorization` to `request`.
    ///
    /// - Parameters:
    ///   - request: the request to sign, in place.
    ///   - credential: the keys (and session token) to sign with.
    ///   - date: the signing time; now by default.
    ///   - payloadHash: the body's hex SHA-256 when the caller already has it (a fan-out hashes
    ///     its one payload once).
    ///   - omitSessionToken: sign without the token and add it afterwards (a few services want this;
    ///     API Gateway does not).
    public func sign(
        _ request: inout SigV4Request,
        credential: Credential,
        date: Date? = nil,
        payloadHash: String? = nil,
        omitSessionToken: Bool = false
    ) {
        let time = AmzTime(date ?? now())
        let hash = payloadHash ?? Self.hexSHA256(request.body)
        request.headers.append((name: "X-Amz-Date", value: time.dateTime))
        if let token = credential.sessionToken, !omitSessionToken {
            request.headers.append((name: "X-Amz-Security-Token", value: token))
        }
        if signsPayloadHeader {
            request.headers.append((name: "x-amz-content-sha256", value: hash))
        }
        let (signedHeaders, signature) = signature(of: request, credential: credential, time: time, payloadHash: hash)
        request.headers.append(
            (
                name: "Authorization",
                value:
                    "AWS4-HMAC-SHA256 Credential=\(credential.accessKeyID)/\(scope(time.day)), SignedHeaders=\(signedHeaders), Signature=\(signature)"
            ))
        if let token = credential.sessionToken, omitSessionToken {
            request.headers.append((name: "X-Amz-Security-Token", value: token))
        }
    }

    /// The signature of `request` exactly as it is (every header in it, `X-Amz-Date` included,
    /// is signed except the ones proxies rewrite): what a verifier recomputes.
    public func signature(of request: SigV4Request, credential: Credential, date: Date, payloadHash: String? = nil) -> (
        signedHeaders: String, signature: String
    ) {
        signature(of: request, credential: credential, time: AmzTime(date), payloadHash: payloadHash)
    }

    private func signature(of request: SigV4Request, credential: Credential, time: AmzTime, payloadHash: String?) -> (
        signedHeaders: String, signature: String
    ) {
        let canonical = canonicalHeaders(request)
        let creq = canonicalRequest(
            request, canonicalQuery: canonicalQuery(request.query), headers: canonical,
            payloadHash: payloadHash ?? Self.hexSHA256(request.body)
        )
        return (
            canonical.signedHeaders,
            signature(stringToSign: stringToSign(canonicalRequest: creq, time: time), credential: credential, day: time.day)
        )
    }

    /// The canonical request header signing would hash for `request` (which must already carry
    /// `X-Amz-Date` and the token, as ``sign(_:credential:date:payloadHash:omitSessionToken:)``
    /// adds them): for debugging a signature mismatch.
    public func canonicalRequest(_ request: SigV4Request, payloadHash: String? = nil) -> String {
        canonicalRequest(
            request, canonicalQuery: canonicalQuery(request.query), headers: canonicalHeaders(request),
            payloadHash: payloadHash ?? Self.hexSHA256(request.body)
        )
    }

    /// The string to sign for a canonical request at `date`.
    public func stringToSign(canonicalRequest: String, date: Date) -> String {
        stringToSign(canonicalRequest: canonicalRequest, time: AmzTime(date))
    }

    // MARK: Presigning

    /// A presigned form of `request`: the query string (without `?`) carrying
    /// `X-Amz-Algorithm`, `-Credential`, `-Date`, `-Expires`, `-SignedHeaders`, the token, and
    /// `X-Amz-Signature` last.
    /// - Parameters:
    ///   - request: the request to presign.
    ///   - credential: the keys (and session token) to sign with.
    ///   - date: the signing time; now by default.
    ///   - expires: seconds the URL stays valid, at most 604,800.
    ///   - omitSessionToken: sign without the token and add it afterwards (as some services want).
    public func presignedQuery(
        _ request: SigV4Request,
        credential: Credential,
        expires: Int,
        date: Date? = nil,
        omitSessionToken: Bool = false
    ) -> String {
        let parts = presignParts(request, credential: credential, expires: expires, date: date, omitSessionToken: omitSessionToken)
        var query = parts.query
        if let token = credential.sessionToken, omitSessionToken {
            query += "&X-Amz-Security-Token=" + uriEncode(token, keepSlash: false)
        }
        return query + "&X-Amz-Signature=" + parts.signature
    }

    /// The canonical request and string to sign of a presigned URL, for debugging and tests.
    public func presignCanonicalRequest(
        _ request: SigV4Request,
        credential: Credential,
        expires: Int,
        date: Date? = nil,
        omitSessionToken: Bool = false
    ) -> (canonicalRequest: String, stringToSign: String, signature: String) {
        let parts = presignParts(request, credential: credential, expires: expires, date: date, omitSessionToken: omitSessionToken)
        return (parts.canonicalRequest, parts.stringToSign, parts.signature)
    }

    private func presignParts(
        _ request: SigV4Request, credential: Credential, expires: Int, date: Date?, omitSessionToken: Bool
    ) -> (query: String, canonicalRequest: String, stringToSign: String, signature: String) {
        let time = AmzTime(date ?? now())
        let canonical = canonicalHeaders(request)
        var added = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credential.accessKeyID)/\(scope(time.day))"),
            ("X-Amz-Date", time.dateTime),
            ("X-Amz-SignedHeaders", canonical.signedHeaders),
            ("X-Amz-Expires", String(expires)),
        ]
        if let token = credential.sessionToken, !omitSessionToken { added.append(("X-Amz-Security-Token", token)) }
        let addedQuery = added.map { "\($0.0)=\(uriEncode($0.1, keepSlash: false))" }.joined(separator: "&")
        let fullQuery = request.query.isEmpty ? addedQuery : request.query + "&" + addedQuery
        let creq = canonicalRequest(
            request, canonicalQuery: canonicalQuery(fullQuery), headers: canonical, payloadHash: Self.hexSHA256(request.body)
        )
        let sts = stringToSign(canonicalRequest: creq, time: time)
        return (fullQuery, creq, sts, signature(stringToSign: sts, credential: credential, day: time.day))
    }

    // MARK: The pieces

    private func canonicalRequest(_ request: SigV4Request, canonicalQuery: String, headers: CanonicalHeaders, payloadHash: String) -> String
    {
        "\(request.method)\n\(canonicalURI(request.path))\n\(canonicalQuery)\n\(headers.block)\n\(headers.signedHeaders)\n\(payloadHash)"
    }

    private func stringToSign(canonicalRequest: String, time: AmzTime) -> String {
        "AWS4-HMAC-SHA256\n\(time.dateTime)\n\(scope(time.day))\n\(Self.hexSHA256(Array(canonicalRequest.utf8)))"
    }

    private func scope(_ day: String) -> String { "\(day)/\(region)/\(service)/aws4_request" }

    private func signature(stringToSign: String, credential: Credential, day: String) -> String {
        let key = keys.key(secret: credential.secretAccessKey, day: day, region: region, service: service)
        return HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key).hexString
    }

    /// The wire path, normalised (non-S3) and percent-encoded again, `/` kept.
    func canonicalURI(_ path: String) -> String {
        let normalized = normalizesPath ? Self.normalize(path) : path
        return uriEncode(normalized, keepSlash: true)
    }

    /// Removes `.` and `..` segments and empty segments, keeping a leading and trailing slash.
    static func normalize(_ path: String) -> String {
        if isNormal(path) { return path }
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        for segment in segments {
            switch segment {
            case ".": continue
            case "..": if !output.isEmpty { output.removeLast() }
            default: output.append(segment)
            }
        }
        let trailing = path.hasSuffix("/") || segments.last == "." || segments.last == ".."
        var result = "/" + output.joined(separator: "/")
        if trailing && !output.isEmpty { result += "/" }
        return result
    }

    /// Whether `path` is already normal: it starts with `/` and has no empty, `.` or `..` segment
    /// (every `@connections` path: it is then used as it is).
    static func isNormal(_ path: String) -> Bool {
        var previous: UInt8 = 0
        var segment = 0  // bytes in the current segment, or -1 once it is neither `.` nor `..`
        var first = true
        for byte in path.utf8 {
            if first {
                guard byte == UInt8(ascii: "/") else { return false }
                first = false
                previous = byte
                continue
            }
            if byte == UInt8(ascii: "/") {
                if previous == UInt8(ascii: "/") || segment > 0 { return false }  // empty, `.` or `..`
                segment = 0
            } else if segment >= 0 {
                segment = byte == UInt8(ascii: ".") && segment < 2 ? segment + 1 : -1
            }
            previous = byte
        }
        return !first && segment <= 0
    }

    /// The query's pairs decoded, re-encoded with the unreserved set, sorted by key then value.
    func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for item in queryItems(query[...]) {
            let key = uriEncode(percentDecode(item.name), keepSlash: false)
            if key == "X-Amz-Signature" { continue }
            pairs.append((key, item.value.map { uriEncode(percentDecode($0), keepSlash: false) } ?? ""))
        }
        pairs.sort { $0.0 == $1.0 ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        return pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    struct CanonicalHeaders {
        var block: String
        var signedHeaders: String
    }

    /// Lowercased names, sorted; values trimmed with inner whitespace collapsed; a repeated name's
    /// values joined with `,` in arrival order. `Host` is included from the request when absent.
    ///
    /// A request has a handful of headers: a sorted array, not a dictionary of arrays.
    func canonicalHeaders(_ request: SigV4Request) -> CanonicalHeaders {
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(request.headers.count + 1)
        var sawHost = false
        for header in request.headers {
            let name = Self.lowercasedASCII(header.name)
            if Self.unsignedHeaders.contains(name) { continue }
            if name == "host" { sawHost = true }
            headers.append((name, Self.collapseWhitespace(header.value)))
        }
        if !sawHost { headers.append(("host", request.host)) }
        // Stable by name: a repeated name's values stay in arrival order.
        let sorted = headers.enumerated().sorted {
            $0.element.name == $1.element.name
                ? $0.offset < $1.offset : $0.element.name.utf8.lexicographicallyPrecedes($1.element.name.utf8)
        }
        var block = ""
        var signedHeaders = ""
        var previous: String?
        for (_, header) in sorted {
            if header.name == previous {
                block.removeLast()  // the line's newline: the value joins the line before
                block += ",\(header.value)\n"
                continue
            }
            if previous != nil { signedHeaders += ";" }
            signedHeaders += header.name
            block += "\(header.name):\(header.value)\n"
            previous = header.name
        }
        return CanonicalHeaders(block: block, signedHeaders: signedHeaders)
    }

    /// `text` with ASCII letters lowercased; `text` itself when it has none to lower.
    static func lowercasedASCII(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return text }
        return String(decoding: text.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// Headers that proxies and clients rewrite, never signed (botocore's list).
    static let unsignedHeaders: Set<String> = [
        "authorization", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]

    static func collapseWhitespace(_ value: String) -> String {
        // Most values have no whitespace to trim or collapse.
        var previousSpace = true  // a leading space is one to trim
        var clean = true
        for byte in value.utf8 {
            let space = byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
            if space && (previousSpace || byte != UInt8(ascii: " ")) {
                clean = false
                break
            }
            previousSpace = space
        }
        if clean && !previousSpace || value.isEmpty { return value }
        return value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }

    /// Hex SHA-256 of `bytes`: the payload hash.
    public static func hexSHA256(_ bytes: some Sequence<UInt8>) -> String {
        SHA256.hash(data: Array(bytes)).hexString
    }

    /// Hex SHA-256 of no bytes.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}

/// `X-Amz-Date` (`yyyyMMdd'T'HHmmss'Z'`) and the scope's day, formatted and parsed by hand in UTC
/// (a `DateFormatter` per request showed in profiles): the signer's and the local gateway's
/// verifier's one date type.
package struct AmzTime: Sendable {
    package let dateTime: String
    package var day: String { String(dateTime.prefix(8)) }

    package init(_ date: Date) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilFromDays(days)
        dateTime = String(unsafeUninitializedCapacity: 16) { buffer in
            func digits(_ value: Int64, _ width: Int, at start: Int) {
                var value = max(0, value)
                for index in (start..<start + width).reversed() {
                    buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            digits(year, 4, at: 0)
            digits(month, 2, at: 4)
            digits(day, 2, at: 6)
            buffer[8] = UInt8(ascii: "T")
            digits(secondOfDay / 3600, 2, at: 9)
            digits(secondOfDay % 3600 / 60, 2, at: 11)
            digits(secondOfDay % 60, 2, at: 13)
            buffer[15] = UInt8(ascii: "Z")
            return 16
        }
    }

    /// The instant an `X-Amz-Date` names, or `nil` when it is not one.
    package static func parse(_ amzDate: String) -> Date? {
        let bytes = Array(amzDate.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for byte in bytes[range] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
            let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        let days = daysFromCivil(year, month, day)
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hour * 3600 + minute * 60 + second))
    }
}

/// Howard Hinnant's civil-to-days conversion (proleptic Gregorian, UTC).
private func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}

/// Howard Hinnant's days-to-civil conversion (proleptic Gregorian, UTC).
private func civilFromDays(_ z: Int64) -> (Int64, Int64, Int64) {
    let z = z + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let y = yoe + era * 400
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (m <= 2 ? y + 1 : y, m, d)
}

/// Derived signing keys, a handful kept: one per day, region, service and secret.
final class SigningKeyCache: Sendable {
    private struct Key: Hashable { let secret: String; let day: String; let region: String; let service: String }
    private let cache = Mutex<[Key: [UInt8]]>([:])

    func key(secret: String, day: String, region: String, service: String) -> SymmetricKey {
        let cacheKey = Key(secret: secret, day: day, region: region, service: service)
        if let bytes = cache.withLock({ $0[cacheKey] }) { return SymmetricKey(data: bytes) }
        func hmac(_ key: SymmetricKey, _ text: String) -> SymmetricKey {
            SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key))
        }
        let dated = hmac(SymmetricKey(data: Array("AWS4\(secret)".utf8)), day)
        let key = hmac(hmac(hmac(dated, region), service), "aws4_request")
        let bytes = key.withUnsafeBytes { Array($0) }
        cache.withLock { cache in
            if cache.count >= 8 { cache.removeAll() }
            cache[cacheKey] = bytes
        }
        return key
    }
}

/// Percent-encodes every byte outside `A–Z a–z 0–9 - _ . ~` (and `/` when `keepSlash`), uppercase hex.
func uriEncode(_ text: String, keepSlash: Bool) -> String {
    if text.utf8.allSatisfy({ isUnreserved($0) || (keepSlash && $0 == UInt8(ascii: "/")) }) { return text }
    var out = [UInt8]()
    out.reserveCapacity(text.utf8.count + 8)
    let hex = upperHexDigits
    for byte in text.utf8 {
        if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
            out.append(byte)
        } else {
            out.append(UInt8(ascii: "%"))
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
    }
    return String(decoding: out, as: UTF8.self)
}

private let upperHexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
private let lowerHexDigits: [UInt8] = Array("0123456789abcdef".utf8)

extension Sequence where Element == UInt8 {
    var hexString: String {
        var out = [UInt8]()
        out.reserveCapacity(underestimatedCount * 2)
        let hex = lowerHexDigits
        for byte in self {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
