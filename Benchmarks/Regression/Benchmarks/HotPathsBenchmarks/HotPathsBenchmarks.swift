// The hot pieces as package-benchmark benchmarks: allocations (and instructions where the kernel
// exposes the counter) against the stored thresholds.
//
//   swift package benchmark                                     # run, print
//   swift package benchmark thresholds check                    # fail (exit 2) past a threshold
//   swift package --allow-writing-to-package-directory benchmark thresholds update
import Benchmark
import HotPaths
import Synchronization

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal, .instructions, .wallClock],
        maxDuration: .seconds(2),
        maxIterations: 2_000,
        // `thresholds update` stores each metric's p90 and `thresholds check` compares p90 with
        // these tolerances (a tolerance on another percentile is never looked at). Allocations are
        // counted exactly: a few more per operation is a change worth reading. Time is printed and
        // stored, never checked: this machine is shared.
        thresholds: [
            .mallocCountTotal: .init(relative: [.p90: 5.0], absolute: [.p90: 2]),
            .instructions: .init(relative: [.p90: 5.0]),
            .wallClock: .init(relative: [.p90: 1_000_000.0]),
        ]
    )
    for path in HotPath.allCases {
        let made = Made()
        Benchmark(path.rawValue) { (benchmark: Benchmark, runner: HotPathRunner) in
            for _ in benchmark.scaledIterations { try await runner.run() }
        } setup: {
            let runner = try await HotPathRunner.make(path)
            try await runner.run()  // the first run's lazy work (caches, pools) is setup
            made.runner.withLock { $0 = runner }
            return runner
        } teardown: {
            try await made.runner.withLock { $0 }?.shutdown()
        }
    }
}

/// The runner a benchmark's setup made, for its teardown.
final class Made: Sendable {
    let runner = Mutex<HotPathRunner?>(nil)
}
