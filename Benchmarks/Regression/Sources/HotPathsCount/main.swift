// Runs one hot piece `count` times after its setup: under callgrind, the instructions of a run
// with `count` minus those of a run with 0 are the operation's, `count` times over
// (`check.sh`).
//
//   HotPathsCount <piece> <count>      pieces: sigv4-sign route-selection payload-encoding dispatch-message
//                                      dispatch-two-way store-touch connect-disconnect
import Foundation
import HotPaths
import NIOCore
import NIOPosix

let arguments = CommandLine.arguments
guard arguments.count == 3, let path = HotPath(rawValue: arguments[1]), let count = Int(arguments[2]), count >= 0 else {
    let names = HotPath.allCases.map(\.rawValue).joined(separator: " ")
    FileHandle.standardError.write(Data("usage: HotPathsCount <\(names)> <count>\n".utf8))
    exit(2)
}
// Swift concurrency on NIO's event loops, as the servers run it; also, valgrind 3.19 cannot run
// the default executor's worker threads.
guard NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() else { fatalError("executor") }
let done = DispatchSemaphore(value: 0)
Task.detached {  // not the main actor: the main thread waits below
    do {
        let runner = try await HotPathRunner.make(path)
        try await runner.run()  // the first run's lazy work (caches, pools) is setup
        for _ in 0..<count { try await runner.run() }
        try await runner.shutdown()
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
    done.signal()
}
done.wait()
