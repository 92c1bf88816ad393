import APIGatewayLocal
import Foundation
// libFuzzer target: API Gateway's route selection expression evaluator against any body.
//
//   swift build --scratch-path .build-fuzz --product FuzzRouteSelection \
//       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING
//   .build-fuzz/debug/FuzzRouteSelection -max_total_time=60
//
// Without -DFUZZING it is a plain program that runs each file given (a crash reproducer, or
// the corpus) through the same function, so it builds and runs with the rest of the package.
import FuzzDriver

/// The first byte picks an expression, the rest is the message body.
func fuzzOne(_ bytes: UnsafeRawBufferPointer) {
    guard let first = bytes.first else { return }
    let expressions = [
        "$request.body.action", "$request.body.a.b[0].c", "${request.body.service}/${request.body.action}", "\\$default",
        "static", "${request.body.x", "$request.body.", "${request.body.a}${request.body.b}-${request.body.c[1]}",
    ]
    let expression = expressions[Int(first) % expressions.count]
    let body = Data(bytes.dropFirst())
    _ = RouteSelection.evaluate(expression, body: body)
    // A body used as the expression too: no input may trap the evaluator.
    _ = RouteSelection.evaluate(String(decoding: body, as: UTF8.self), body: body)
}

/// libFuzzer's own name for the function; its driver links against it.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    fuzzOne(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}

#if FUZZING
    @_cdecl("FuzzRouteSelection_main")
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
