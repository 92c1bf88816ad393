import APIGatewayAWS
import Foundation
import NIOHTTP1

/// Checks that a request was signed with SigV4 by one of the configured credentials, as API
/// Gateway does for `@connections` and the control plane: the scope's date, region, service and
/// `aws4_request` ending, a 15-minute window around the gateway's clock, and the signature,
/// compared in constant time.
struct SigV4Verifier: Sendable {
    /// Why a request was refused; ``message`` is AWS's wording, safe to send back.
    struct Rejection: Error, CustomStringConvertible, Equatable {
        let message: String
        var description: String { message }
    }

    /// How far `X-Amz-Date` may be from the gateway's clock, either way.
    static let skew: TimeInterval = 15 * 60

    let credentials: [String: Credential]
    let region: String
    let clock: LocalClock
    /// One signer per service the gateway answers for, so their signing-key caches last; a
    /// request naming any other service or region is refused before a signer is needed.
    private let signers: [String: SigV4Signer]

    init(credentials: [Credential], region: String, clock: LocalClock = .system) {
        self.credentials = Dictionary(credentials.map { ($0.accessKeyID, $0) }, uniquingKeysWith: { first, _ in first })
        self.region = region
        self.clock = clock
        self.signers = Dictionary(
            uniqueKeysWithValues: ["execute-api", "apigateway"].map { ($0, SigV4Signer(service: $0, region: region)) })
    }

    /// Why a request is not accepted, or `nil` when its signature is right.
    func problem(method: String, uri: String, headers: HTTPHeaders, body: some Collection<UInt8>, service expectedService: String)
        -> Rejection?
    {
        if case .failure(let rejection) = verify(method: method, uri: uri, headers: headers, body: body, service: expectedService) {
            return rejection
        }
        return nil
    }

    /// The key that signed a request in its `Authorization` header, or why it is not accepted.
    func verify(method: String, uri: String, headers: HTTPHeaders, body: some Collection<UInt8>, service expectedService: String)
        -> Result<Credential, Rejection>
    {
        guard let authorization = headers.first(name: "Authorization") else { return .failure(Rejection(message: "Missing Authentication Token")) }
        guard authorization.hasPrefix("AWS4-HMAC-SHA256 ") else { return .failure(Rejection(message: "Unsupported authorization type")) }
        var fields: [String: String] = [:]
        for part in authorization.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        guard let scope = fields["Credential"]?.split(separator: "/", omittingEmptySubsequences: false), scope.count == 5,
            let signedHeaders = fields["SignedHeaders"], let presented = fields["Signature"]
        else {
            return .failure(
                Rejection(
                    message: "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters, "
                        + "with a Credential of the form KEY/DATE/REGION/SERVICE/aws4_request"))
        }
        guard let credential = credentials[String(scope[0])] else {
            return .failure(Rejection(message: "The security token included in the request is invalid."))
        }
        guard scope[4] == "aws4_request" else {
            return .failure(Rejection(message: "Credential should be scoped with a valid terminator: 'aws4_request', not '\(scope[4])'."))
        }
        guard scope[3] == expectedService, let signer = signers[expectedService] else {
            return .failure(Rejection(message: "Credential should be scoped to correct service: '\(expectedService)'."))
        }
        guard scope[2] == region else { return .failure(Rejection(message: "Credential should be scoped to a valid region, not '\(scope[2])'.")) }
        guard let amzDate = headers.first(name: "X-Amz-Date"), let date = AmzTime.parse(amzDate) else {
            return .failure(Rejection(message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."))
        }
        guard amzDate.hasPrefix(scope[1]) else {
            return .failure(
                Rejection(
                    message:
                        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '\(scope[1])' != '\(amzDate.prefix(8))'."
                ))
        }
        let now = clock.now()
        guard abs(date.timeIntervalSince(now)) <= Self.skew else {
            return .failure(
                Rejection(
                    message:
                        "Signature expired: \(amzDate) is now earlier than \(AmzTime(now - Self.skew).dateTime) (\(AmzTime(now).dateTime) - 15 min.)"
                ))
        }
        let names = Set(signedHeaders.split(separator: ";").map { $0.lowercased() })
        guard names.contains("host") else { return .failure(Rejection(message: "'Host' must be a 'SignedHeader' in the AWS Authorization.")) }
        let signed = headers.filter { names.contains($0.name.lowercased()) }.map { (name: $0.name, value: $0.value) }
        let (path, query) = splitURI(uri)
        let request = SigV4Request(
            method: method, host: headers.first(name: "Host") ?? "", path: path, query: query ?? "", headers: signed)
        // The body is hashed where it lies: a post of 128 KB is not copied to be verified.
        let expected = signer.signature(of: request, credential: credential, date: date, payloadHash: SigV4Signer.hexSHA256(body))
        guard expected.signedHeaders == signedHeaders, ConstantTime.equals(expected.signature, presented) else {
            return .failure(
                Rejection(
                    message: "The request signature we calculated does not match the signature you provided. "
                        + "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."))
        }
        return .success(credential)
    }

    // MARK: Presigned requests

    /// Why a presigned request (its signature in the query, as botocore's `SigV4QueryAuth` and
    /// the AWS SDKs presign a `wss://` URL for an `AWS_IAM` `$connect`) is not accepted, or `nil`
    /// with the key that signed it. The payload is the empty body's hash (or `UNSIGNED-PAYLOAD`).
    func presignedProblem(method: String, uri: String, headers: HTTPHeaders, service expectedService: String)
        -> Result<Credential, Rejection>
    {
        let (path, rawQuery) = splitURI(uri)
        let items = queryItems((rawQuery ?? "")[...])
        var fields: [String: String] = [:]
        for item in items where item.name.hasPrefix("X-Amz-") {
            fields[String(item.name)] = item.value.map { percentDecode($0) } ?? ""
        }
        guard fields["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" else {
            return .failure(Rejection(message: fields["X-Amz-Algorithm"] == nil ? "Missing Authentication Token" : "Unsupported algorithm"))
        }
        guard let scope = fields["X-Amz-Credential"]?.split(separator: "/", omittingEmptySubsequences: false), scope.count == 5,
            let signedHeaders = fields["X-Amz-SignedHeaders"], let presented = fields["X-Amz-Signature"],
            let amzDate = fields["X-Amz-Date"], let date = AmzTime.parse(amzDate),
            let expiresText = fields["X-Amz-Expires"], let expires = Int(expiresText)
        else {
            return .failure(
                Rejection(
                    message: "A presigned request needs X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature"))
        }
        guard let credential = credentials[String(scope[0])] else {
            return .failure(Rejection(message: "The security token included in the request is invalid."))
        }
        guard scope[4] == "aws4_request", scope[3] == expectedService, let signer = signers[expectedService], scope[2] == region,
            amzDate.hasPrefix(scope[1])
        else {
            return .failure(Rejection(message: "Credential should be scoped to \(region)/\(expectedService)/aws4_request on the day of X-Amz-Date."))
        }
        guard (1...604_800).contains(expires) else {
            return .failure(Rejection(message: "X-Amz-Expires must be between 1 and 604800 seconds, not \(expiresText)"))
        }
        let now = clock.now()
        guard date.timeIntervalSince(now) <= Self.skew else {
            return .failure(Rejection(message: "Signature not yet current: \(amzDate) is still later than \(AmzTime(now + Self.skew).dateTime)"))
        }
        guard now.timeIntervalSince(date) <= TimeInterval(expires) else {
            return .failure(Rejection(message: "Signature expired: \(amzDate) is now earlier than \(AmzTime(now - TimeInterval(expires)).dateTime)"))
        }
        let names = Set(signedHeaders.split(separator: ";").map { $0.lowercased() })
        guard names.contains("host") else { return .failure(Rejection(message: "'Host' must be a 'SignedHeader'.")) }
        let signed = headers.filter { names.contains($0.name.lowercased()) }.map { (name: $0.name, value: $0.value) }
        let unsignedQuery = items.filter { $0.name != "X-Amz-Signature" }.map { item in
            item.value.map { "\(item.name)=\($0)" } ?? String(item.name)
        }.joined(separator: "&")
        let request = SigV4Request(method: method, host: headers.first(name: "Host") ?? "", path: path, query: unsignedQuery, headers: signed)
        for payloadHash in [SigV4Signer.hexSHA256([UInt8]()), "UNSIGNED-PAYLOAD"] {
            let expected = signer.signature(of: request, credential: credential, date: date, payloadHash: payloadHash)
            if expected.signedHeaders == signedHeaders, ConstantTime.equals(expected.signature, presented) { return .success(credential) }
        }
        return .failure(
            Rejection(
                message: "The request signature we calculated does not match the signature you provided. "
                    + "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."))
    }
}
