import Foundation
import Testing

/// A Python interpreter with the PyPI peers (botocore, boto3, moto) that `.ci/run` installs into
/// `.venv`. Outside CI a missing peer skips the test with a message; with `CI=true` it fails.
enum PythonPeer {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `APIGW_PYTHON`, else `.venv/bin/python`, if it can import `module`.
    static func interpreter(importing module: String) -> URL? {
        var candidates: [URL] = []
        if let explicit = ProcessInfo.processInfo.environment["APIGW_PYTHON"] { candidates.append(URL(fileURLWithPath: explicit)) }
        candidates.append(repositoryRoot.appendingPathComponent(".venv/bin/python"))
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            if (try? run(candidate, ["-c", "import \(module)"], input: Data()))?.status == 0 { return candidate }
        }
        return nil
    }

    /// True in CI, where a missing peer is a failure rather than a skip.
    static var required: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    static func missingMessage(_ module: String) -> String {
        "\(module) is not installed: run `python3 -m venv .venv && .venv/bin/pip install botocore boto3 'moto[server]'` (or set APIGW_PYTHON)"
    }

    struct Output { let status: Int32; let stdout: Data; let stderr: Data }

    static func run(_ executable: URL, _ arguments: [String], input: Data) throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let writer = Thread {
            stdin.fileHandleForWriting.write(input)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let errorData = LockedData()
        let errorReader = Thread { errorData.set(stderr.fileHandleForReading.readDataToEndOfFile()) }
        errorReader.start()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorData.isSet { Thread.sleep(forTimeInterval: 0.01) }
        return Output(status: process.terminationStatus, stdout: out, stderr: errorData.value)
    }
}

private final class LockedData: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var data: Data?
    func set(_ value: Data) { lock.withLock { data = value } }
    var isSet: Bool { lock.withLock { data != nil } }
    var value: Data { lock.withLock { data ?? Data() } }
}
