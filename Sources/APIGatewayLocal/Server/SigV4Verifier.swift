import APIGatewayAWS
import Foundation
import NIOHTTP1
import Synchronization

/// Checks that a request was signed with SigV4 by one of the configured credentials, as API
/// Gateway does for `@connections` and the control plane.
struct SigV4Verifier: Sendable {
    let credentials: [String: Credential]
    /// One signer per region and service, so their signing-key caches last.
    private let signers = SignerCache()

    init(credentials: [Credential]) {
        self.credentials = Dictionary(credentials.map { ($0.accessKeyID, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Why a request is not accepted, or `nil` when its signature is right.
    func problem(method: String, uri: String, headers: HTTPHeaders, body: [UInt8], service expectedService: String) -> String? {
        guard let authorization = headers.first(name: "Authorization") else { return "Missing Authentication Token" }
        guard authorization.hasPrefix("AWS4-HMAC-SHA256 ") else { return "unsupported authorization scheme" }
        var fields: [String: String] = [:]
        for part in authorization.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        guard let scope = fields["Credential"]?.split(separator: "/"), scope.count == 5,
            let signedHeaders = fields["SignedHeaders"], let presented = fields["Signature"]
        else { return "malformed Authorization header" }
        guard let credential = credentials[String(scope[0])] else { return "The security token included in the request is invalid" }
        let region = String(scope[2]), service = String(scope[3])
        guard service == expectedService else { return "credential scope names service \(service), expected \(expectedService)" }
        guard let amzDate = headers.first(name: "X-Amz-Date"), let date = Self.parse(amzDate), amzDate.hasPrefix(scope[1]) else {
            return "missing or inconsistent X-Amz-Date"
        }
        let names = Set(signedHeaders.split(separator: ";").map { $0.lowercased() })
        guard names.contains("host") else { return "host is not signed" }
        let signed = headers.filter { names.contains($0.name.lowercased()) }.map { (name: $0.name, value: $0.value) }
        let (path, query) = splitURI(uri)
        let request = SigV4Request(
            method: method, host: headers.first(name: "Host") ?? "", path: path, query: query ?? "", headers: signed, body: body)
        let expected = signers.signer(service: service, region: region).signature(of: request, credential: credential, date: date)
        guard expected.signedHeaders == signedHeaders else { return "signed headers do not match the request" }
        guard expected.signature == presented else {
            return "The request signature we calculated does not match the signature you provided"
        }
        return nil
    }

    /// `yyyyMMdd'T'HHmmss'Z'`, parsed by hand (a DateFormatter per request showed in profiles).
    static func parse(_ amzDate: String) -> Date? {
        let bytes = Array(amzDate.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
            let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hour * 3600 + minute * 60 + second))
    }
}

final class SignerCache: Sendable {
    private let signers = Mutex<[String: SigV4Signer]>([:])

    func signer(service: String, region: String) -> SigV4Signer {
        signers.withLock { signers in
            let key = service + "/" + region
            if let signer = signers[key] { return signer }
            let signer = SigV4Signer(service: service, region: region)
            signers[key] = signer
            return signer
        }
    }
}
