// What every libFuzzer target here shares: handing libFuzzer its function, and replaying files.
import Foundation

#if FUZZING
    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    /// Runs libFuzzer with the process's arguments over `body`. SwiftPM links an executable's entry
    /// point as `{module}_main`, so libFuzzer's own `main` never runs: each target's entry point
    /// calls this instead.
    public func runFuzzer(
        argc: CInt, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
        _ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt {
        var argc = argc
        var argv = argv
        return runFuzzerDriver(&argc, &argv, body)
    }
#endif

/// Runs each file named on the command line through `body`: a crash libFuzzer saved, or a corpus.
public func replay(_ paths: some Sequence<String>, _ body: (UnsafeRawBufferPointer) -> Void) throws {
    for path in paths { try Data(contentsOf: URL(fileURLWithPath: path)).withUnsafeBytes(body) }
}
