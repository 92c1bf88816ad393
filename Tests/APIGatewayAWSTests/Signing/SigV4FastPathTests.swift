import Foundation
import Testing

@testable import APIGatewayAWS

/// The signer's fast paths (a path already normal, a header value with no whitespace to fold)
/// answer exactly what the general algorithms answer, on every short string of the bytes that
/// matter.
@Suite struct SigV4FastPathTests {
    /// Every string of up to `length` characters drawn from `alphabet`.
    static func strings(_ alphabet: [String], upTo length: Int) -> [String] {
        var all = [""]
        var level = [""]
        for _ in 0..<length {
            level = level.flatMap { prefix in alphabet.map { prefix + $0 } }
            all += level
        }
        return all
    }

    @Test func pathNormalisationMatchesTheSegmentAlgorithm() {
        for path in Self.strings(["/", ".", "a"], upTo: 7) {
            let segments = path.split(separator: "/", omittingEmptySubsequences: true)
            var output: [Substring] = []
            for segment in segments {
                if segment == "." { continue }
                if segment == ".." {
                    if !output.isEmpty { output.removeLast() }
                    continue
                }
                output.append(segment)
            }
            var expected = "/" + output.joined(separator: "/")
            if (path.hasSuffix("/") || segments.last == "." || segments.last == "..") && !output.isEmpty { expected += "/" }
            #expect(SigV4Signer.normalize(path) == expected, "'\(path)'")
        }
    }

    @Test func whitespaceFoldingMatchesSplitAndJoin() {
        for value in Self.strings([" ", "\t", "\n", "a"], upTo: 6) {
            let expected = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
            #expect(SigV4Signer.collapseWhitespace(value) == expected, "'\(value.debugDescription)'")
        }
    }

    @Test func headerNamesLowerOnlyASCII() {
        #expect(SigV4Signer.lowercasedASCII("X-Amz-Date") == "x-amz-date")
        #expect(SigV4Signer.lowercasedASCII("host") == "host")
    }

    @Test func repeatedHeadersJoinInArrivalOrderUnderOneName() {
        let signer = SigV4Signer(service: "execute-api", region: "us-east-1")
        let request = SigV4Request(
            method: "POST", host: "example.com", path: "/",
            headers: [("X-B", " two  words "), ("x-a", "1"), ("X-b", "second"), ("User-Agent", "unsigned")])
        let canonical = signer.canonicalHeaders(request)
        #expect(canonical.block == "host:example.com\nx-a:1\nx-b:two words,second\n")
        #expect(canonical.signedHeaders == "host;x-a;x-b")
    }
}
