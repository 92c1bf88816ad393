import Foundation
import PeerSupport
import Testing

@testable import APIGatewayAWS

/// The 38 official SigV4 vectors (aws-c-auth), each in its header and its presigned-URL form.
@Suite struct SigV4VectorTests {
    /// `../shared/testdata/sigv4`, beside the repository.
    static let folder = PythonPeer.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata/sigv4")

    static let names: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: folder.appendingPathComponent("\($0)/context.json").path) }.sorted()
    }()

    @Test func allThirtyEightVectorsArePresent() {
        #expect(Self.names.count == 38, "expected the 38 vectors in \(Self.folder.path)")
    }

    @Test(arguments: names)
    func headerForm(_ name: String) throws {
        let vector = try Vector(name: name, folder: Self.folder)
        var request = vector.request
        let signer = vector.signer
        signer.sign(&request, credential: vector.credential, date: vector.date, omitSessionToken: vector.omitSessionToken)
        // Rebuild the canonical request the way signing saw it (before a late token was added).
        var seen = request
        seen.headers.removeAll { $0.name == "Authorization" || (vector.omitSessionToken && $0.name == "X-Amz-Security-Token") }
        let creq = signer.canonicalRequest(seen)
        #expect(creq == vector.expected("header-canonical-request.txt"))
        let sts = signer.stringToSign(canonicalRequest: creq, date: vector.date)
        #expect(sts == vector.expected("header-string-to-sign.txt"))
        let authorization = try #require(request.header("Authorization"))
        #expect(authorization.hasSuffix("Signature=" + vector.expected("header-signature.txt")))
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders="))
        #expect(vector.expected("header-signed-request.txt").contains("Authorization:" + authorization))
    }

    @Test(arguments: names)
    func queryForm(_ name: String) throws {
        let vector = try Vector(name: name, folder: Self.folder)
        let parts = vector.signer.presignCanonicalRequest(
            vector.request, credential: vector.credential, expires: vector.expires, date: vector.date,
            omitSessionToken: vector.omitSessionToken
        )
        #expect(parts.canonicalRequest == vector.expected("query-canonical-request.txt"))
        #expect(parts.stringToSign == vector.expected("query-string-to-sign.txt"))
        #expect(parts.signature == vector.expected("query-signature.txt"))
        let query = vector.signer.presignedQuery(
            vector.request, credential: vector.credential, expires: vector.expires, date: vector.date,
            omitSessionToken: vector.omitSessionToken
        )
        let signedLine = vector.expected("query-signed-request.txt").split(separator: "\n").first.map(String.init) ?? ""
        #expect(query.hasSuffix("X-Amz-Signature=" + parts.signature))
        // Every parameter we send is in the published signed request.
        for parameter in query.split(separator: "&") { #expect(signedLine.contains(String(parameter)), "\(parameter)") }
    }
}

/// One vector folder, parsed.
struct Vector {
    let folder: URL
    let request: SigV4Request
    let credential: Credential
    let signer: SigV4Signer
    let date: Date
    let expires: Int
    let omitSessionToken: Bool

    init(name: String, folder root: URL) throws {
        folder = root.appendingPathComponent(name)
        let context =
            try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("context.json"))) as! [String: Any]
        let credentials = context["credentials"] as! [String: String]
        credential = Credential(
            accessKeyID: credentials["access_key_id"]!, secretAccessKey: credentials["secret_access_key"]!,
            sessionToken: credentials["token"])
        date = ISO8601DateFormatter().date(from: context["timestamp"] as! String)!
        expires = context["expiration_in_seconds"] as? Int ?? 3600
        omitSessionToken = context["omit_session_token"] as? Bool ?? false
        signer = SigV4Signer(
            service: context["service"] as! String, region: context["region"] as! String,
            normalizesPath: context["normalize"] as? Bool ?? true, signsPayloadHeader: context["sign_body"] as? Bool ?? false
        )
        request = try Vector.parse(Data(contentsOf: folder.appendingPathComponent("request.txt")))
    }

    func expected(_ file: String) -> String {
        (try? String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)) ?? "<missing \(file)>"
    }

    /// Request line split at the first and the last space; obs-fold continuation lines; body after a blank line.
    static func parse(_ data: Data) throws -> SigV4Request {
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.components(separatedBy: "\n")
        let requestLine = lines.removeFirst()
        let first = requestLine.firstIndex(of: " ")!, last = requestLine.lastIndex(of: " ")!
        let method = String(requestLine[..<first])
        let target = String(requestLine[requestLine.index(after: first)..<last])
        var headers: [(name: String, value: String)] = []
        var bodyLines: [String] = []
        var inBody = false
        for line in lines {
            if inBody { bodyLines.append(line); continue }
            if line.isEmpty { inBody = true; continue }
            if line.first == " " || line.first == "\t" {
                headers[headers.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            let colon = line.firstIndex(of: ":")!
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        let (path, query) =
            target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) } ?? (target, "")
        let host = headers.first { $0.name.lowercased() == "host" }?.value ?? ""
        return SigV4Request(
            method: method, host: host, path: path, query: query, headers: headers, body: Array(bodyLines.joined(separator: "\n").utf8))
    }
}

/// `X-Amz-Date` both ways, by hand: the signer formats it, the local gateway's verifier parses it.
@Test func amzDatesFormatAndParseByHand() {
    #expect(AmzTime.parse("20150830T123600Z") == Date(timeIntervalSince1970: 1_440_938_160))
    #expect(AmzTime.parse("20240229T235959Z") == Date(timeIntervalSince1970: 1_709_251_199))
    #expect(AmzTime.parse("2015-08-30T12:36:00Z") == nil)
    #expect(AmzTime.parse("20151330T123600Z") == nil)
    for seconds in [0, 951_782_400, 1_440_938_160, 1_709_251_199, 4_102_444_799] as [TimeInterval] {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(AmzTime.parse(AmzTime(date).dateTime) == date, "\(AmzTime(date).dateTime)")
    }
}
