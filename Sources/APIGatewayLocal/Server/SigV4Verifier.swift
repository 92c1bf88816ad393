import APIGatewayAWS
import Foundation
import NIOHTTP1

/// Checks that a request was signed with SigV4 by one of the configured credentials, as API
/// Gateway does for `@connections` and the control plane.
struct SigV4Verifier: Sendable {
    let credentials: [String: Credential]

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
        let request = SigV4Request(method: method, host: headers.first(name: "Host") ?? "", path: path, query: query ?? "", headers: signed, body: body)
        let expected = SigV4Signer(service: service, region: region).signature(of: request, credential: credential, date: date)
        guard expected.signedHeaders == signedHeaders else { return "signed headers do not match the request" }
        guard expected.signature == presented else {
            return "The request signature we calculated does not match the signature you provided"
        }
        return nil
    }

    static func parse(_ amzDate: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.date(from: amzDate)
    }
}
