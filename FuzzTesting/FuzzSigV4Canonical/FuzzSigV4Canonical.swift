// libFuzzer target: the SigV4 canonicaliser (path, query and header canonical forms) against
// any request line, as the local gateway's verifier runs it on what clients send.
//
//   swift build --scratch-path .build-fuzz --product FuzzSigV4Canonical \
//       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING
//   .build-fuzz/debug/FuzzSigV4Canonical -max_total_time=60
//
// Without -DFUZZING it replays the files it is given.
import APIGatewayAWS
import Foundation
import FuzzDriver

/// Input: `path`, `?query`, then `\n`-separated `name: value` headers, any bytes.
func fuzzOne(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let target = lines.first.map(String.init) ?? ""
    let (path, query) =
        target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) } ?? (target, "")
    let headers = lines.dropFirst().map { line -> (name: String, value: String) in
        let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
    }
    let request = SigV4Request(method: "POST", host: "127.0.0.1:8081", path: path, query: query, headers: headers, body: Array(bytes))
    let signer = SigV4Signer(service: "execute-api", region: "us-east-1")
    _ = signer.canonicalRequest(request)
    _ = signer.signature(
        of: request, credential: Credential(accessKeyID: "AKID", secretAccessKey: "secret"), date: Date(timeIntervalSince1970: 0))
}

/// libFuzzer's own name for the function; its driver links against it.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    fuzzOne(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}

#if FUZZING
    @_cdecl("FuzzSigV4Canonical_main")
    public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        runFuzzer(argc: argc, argv: argv) { start, count in
            fuzzOne(UnsafeRawBufferPointer(start: start, count: count))
            return 0
        }
    }
#else
    @main
    struct Replay {
        static func main() throws { try replay(CommandLine.arguments.dropFirst(), fuzzOne) }
    }
#endif
