import Foundation
import PeerSupport
import Testing

@testable import APIGatewayAWS

/// Our signer and botocore's sign the same 240 generated API Gateway requests identically:
/// `@connections` with and without a stage, custom domains with base paths, ids with `=`, `-`
/// and `_`, `@` literal or `%40`, session tokens, bodies of 0 bytes to 128 KiB, and apigatewayv2
/// control-plane calls with JSON bodies and paginated queries.
@Suite struct SigV4BotocoreAgreementTests {
    struct Case: Encodable {
        let method: String
        let url: String
        let headers: [String: String]
        let body_b64: String
        let service: String
        let region: String
        let access_key: String
        let secret_key: String
        let token: String?
        let time: String
        // Not sent to Python:
        var host: String { URLComponents(string: url)!.percentEncodedHost! + (URLComponents(string: url)!.port.map { ":\($0)" } ?? "") }
    }

    struct Answer: Decodable {
        let canonical_request: String
        let string_to_sign: String
        let authorization: String
    }

    static func cases(count: Int) -> [Case] {
        var rng = SeededGenerator(seed: 20_261_129)  // deterministic: a failure names a case that can be rerun
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let regions = ["us-east-1", "eu-west-1", "ap-southeast-2", "af-south-1"]
        var cases: [Case] = []
        for n in 0..<count {
            let region = regions.randomElement(using: &rng)!
            let apiID = String((0..<10).map { _ in alphabet[26 + Int.random(in: 0..<36, using: &rng)] }).lowercased()
            var id = String((0..<Int.random(in: 8...20, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            if Bool.random(using: &rng) { id += "=" }
            let encodedID = id.replacingOccurrences(of: "=", with: "%3D")
            let at = Bool.random(using: &rng) ? "@connections" : "%40connections"
            let token: String? =
                Bool.random(using: &rng)
                ? "FwoGZXIvYXdzE" + String((0..<40).map { _ in alphabet.randomElement(using: &rng)! }) + "/+=" : nil
            let seconds = 1_700_000_000 + Int.random(in: 0..<100_000_000, using: &rng)
            let time = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            let url: String
            var service = "execute-api"
            var method = ["POST", "GET", "DELETE", "POST"].randomElement(using: &rng)!
            var headers: [String: String] = [:]
            var bodySize = method == "POST" ? [0, 1, 17, 1024, 32_768, 131_072].randomElement(using: &rng)! : 0
            switch n % 6 {
            case 0: url = "https://\(apiID).execute-api.\(region).amazonaws.com/prod/\(at)/\(encodedID)"
            case 1: url = "https://\(apiID).execute-api.\(region).amazonaws.com/\(at)/\(encodedID)"  // no stage (moto)
            case 2: url = "https://ws.example.com/chat/v1/\(at)/\(encodedID)"  // custom domain + base path
            case 3: url = "http://127.0.0.1:\(Int.random(in: 1024...65535, using: &rng))/\(at)/\(encodedID)"
            case 4:
                service = "apigateway"
                method = "POST"
                url = "https://apigateway.\(region).amazonaws.com/v2/apis/\(apiID)/routes"
                headers["Content-Type"] = "application/json"
                bodySize = Int.random(in: 10...2_000, using: &rng)
            default:
                service = "apigateway"
                method = "GET"
                url =
                    "https://apigateway.\(region).amazonaws.com/v2/apis/\(apiID)/routes?maxResults=\(Int.random(in: 1...500, using: &rng))&nextToken=\(encodedID)"
                bodySize = 0
            }
            let body = (0..<bodySize).map { _ in UInt8.random(in: 32...126, using: &rng) }
            cases.append(
                Case(
                    method: method, url: url, headers: headers, body_b64: Data(body).base64EncodedString(), service: service,
                    region: region,
                    access_key: "AKIA" + String((0..<16).map { _ in alphabet[Int.random(in: 0..<36, using: &rng)] }).uppercased(),
                    secret_key: String((0..<40).map { _ in alphabet.randomElement(using: &rng)! }), token: token, time: time
                ))
        }
        return cases
    }

    @Test func agreesWithBotocoreOn240Requests() async throws {
        guard let python = await PythonPeer.require("botocore") else { return }
        let cases = Self.cases(count: 240)
        let script = PythonPeer.repositoryRoot.appendingPathComponent("Tests/Peers/sigv4_oracle.py").path
        let output = try await PythonPeer.run(python, [script], input: try JSONEncoder().encode(cases))
        try #require(output.status == 0, "oracle failed: \(String(decoding: output.stderr, as: UTF8.self))")
        let answers = try JSONDecoder().decode([Answer].self, from: output.stdout)
        try #require(answers.count == cases.count)
        var agreed = 0
        for (index, (testCase, answer)) in zip(cases, answers).enumerated() {
            let components = URLComponents(string: testCase.url)!
            var request = SigV4Request(
                method: testCase.method, host: testCase.host, path: components.percentEncodedPath,
                query: components.percentEncodedQuery ?? "", headers: testCase.headers.map { ($0.key, $0.value) },
                body: Array(Data(base64Encoded: testCase.body_b64)!)
            )
            let signer = SigV4Signer(service: testCase.service, region: testCase.region)
            let date = ISO8601DateFormatter().date(from: testCase.time)!
            signer.sign(
                &request,
                credential: Credential(
                    accessKeyID: testCase.access_key, secretAccessKey: testCase.secret_key, sessionToken: testCase.token), date: date)
            var seen = request
            seen.headers.removeAll { $0.name == "Authorization" }
            let creq = signer.canonicalRequest(seen)
            #expect(creq == answer.canonical_request, "case \(index): \(testCase.url)")
            #expect(signer.stringToSign(canonicalRequest: creq, date: date) == answer.string_to_sign, "case \(index)")
            #expect(request.header("Authorization") == answer.authorization, "case \(index): \(testCase.url)")
            if request.header("Authorization") == answer.authorization { agreed += 1 }
        }
        #expect(agreed == 240)
    }

    @Test func thePostToConnectionExampleFromTheReference() {
        // botocore's output for a PostToConnection-shaped request (the signing reference, §3).
        var request = SigV4Request(
            method: "POST", host: "abc123.execute-api.us-east-1.amazonaws.com", path: "/prod/@connections/L0SM9cOFvHcCIhw%3D",
            body: Array(#"{"hello":"world"}"#.utf8)
        )
        let signer = SigV4Signer(service: "execute-api", region: "us-east-1")
        let credential = Credential(
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "SESSIONTOKEN")
        signer.sign(&request, credential: credential, date: Date(timeIntervalSince1970: 1_704_164_645))
        #expect(
            request.header("Authorization")?.hasSuffix("Signature=90820b4655135e4e387d183a35aec3715274c30f786ec5bf8041080ecc39075b") == true
        )
        #expect(signer.canonicalURI("/prod/@connections/L0SM9cOFvHcCIhw%3D") == "/prod/%40connections/L0SM9cOFvHcCIhw%253D")
    }
}
