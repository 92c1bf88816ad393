import Foundation
import Testing

/// A Python interpreter with the PyPI peers (botocore, boto3, moto) that `.ci/run` installs into
/// `.venv`. Outside CI a missing peer skips the test with a message; with `CI=true` it fails.
public enum PythonPeer {
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `APIGW_PYTHON`, else `.venv/bin/python`, if it can import `module`.
    public static func interpreter(importing module: String) async -> URL? {
        var candidates: [URL] = []
        if let explicit = ProcessInfo.processInfo.environment["APIGW_PYTHON"] { candidates.append(URL(fileURLWithPath: explicit)) }
        candidates.append(repositoryRoot.appendingPathComponent(".venv/bin/python"))
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            if (try? await run(candidate, ["-c", "import \(module)"], input: Data()))?.status == 0 { return candidate }
        }
        return nil
    }

    /// The interpreter that can import `module`, for a test that needs it; without one the test
    /// is skipped with a message naming `test`, or, in CI (`CI=true`), fails.
    public static func require(_ module: String, named package: String? = nil, test: String = #function) async -> URL? {
        if let python = await interpreter(importing: module) { return python }
        let message = missingMessage(package ?? module)
        if required {
            Issue.record(Comment(rawValue: message))
        } else {
            print("SKIPPED \(test): \(message)")
        }
        return nil
    }

    /// True in CI, where a missing peer is a failure rather than a skip.
    public static var required: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Every Python peer the tests use, as `pip` names them: the README's venv line installs them all.
    public static let packages = ["botocore", "boto3", "'moto[server]'", "cfn-lint", "python-hcl2", "selenium"]

    /// Why a test cannot run, naming the PyPI package that brings `package` (and the line that
    /// brings every peer).
    public static func missingMessage(_ package: String) -> String {
        let pip = package == "moto" ? "'moto[server]'" : package
        return "\(package) is not installed: run `python3 -m venv .venv && .venv/bin/pip install \(pip)`"
            + " (every peer: `.venv/bin/pip install \(packages.joined(separator: " "))`; or set APIGW_PYTHON)"
    }

    public struct Output: Sendable { public let status: Int32; public let stdout: Data; public let stderr: Data }

    /// Runs `executable` to completion with `input` on stdin and `environment` added to this
    /// process's; the streams go through temporary files and the wait is a termination handler,
    /// so no thread blocks.
    public static func run(_ executable: URL, _ arguments: [String], input: Data, environment: [String: String] = [:]) async throws
        -> Output
    {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("peer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let inURL = folder.appendingPathComponent("in"), outURL = folder.appendingPathComponent("out"),
            errURL = folder.appendingPathComponent("err")
        try input.write(to: inURL)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do { try process.run() } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        return Output(status: process.terminationStatus, stdout: try Data(contentsOf: outURL), stderr: try Data(contentsOf: errURL))
    }
}
