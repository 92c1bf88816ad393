import Foundation
import PeerSupport
import Synchronization
import Testing

/// Headless Chromium driven through Selenium (`browser_driver.py`, one JSON command per line).
/// Outside CI a missing Chromium, chromedriver or Selenium skips the test with a message; in CI
/// (`CI=true`, where `.ci/run` installs them) it fails.
final class BrowserDriver: Sendable {
    static let chromium = ProcessInfo.processInfo.environment["APIGW_CHROMIUM"] ?? "/usr/bin/chromium"
    static let chromedriver = ProcessInfo.processInfo.environment["APIGW_CHROMEDRIVER"] ?? "/usr/bin/chromedriver"
    static let script = PythonPeer.repositoryRoot.appendingPathComponent("Tests/EndToEndTests/Browser/browser_driver.py")

    private let process: Process
    private let input: FileHandle
    private let lines: Inbox<String>

    /// A driver, or `nil` (the test skipped, or failed in CI) when the browser or Selenium is missing.
    static func start(test: String = #function) async throws -> BrowserDriver? {
        let missing = [chromium, chromedriver].filter { !FileManager.default.isExecutableFile(atPath: $0) }
        if !missing.isEmpty {
            let message = "\(missing.joined(separator: " and ")) missing: install Debian's chromium and chromium-driver (.ci/run does)"
            if PythonPeer.required { Issue.record(Comment(rawValue: message)) } else { print("SKIPPED \(test): \(message)") }
            return nil
        }
        guard let python = await PythonPeer.require("selenium", test: test) else { return nil }
        return try BrowserDriver(python: python)
    }

    private init(python: URL) throws {
        let process = Process()
        process.executableURL = python
        process.arguments = ["-u", Self.script.path]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.standardError
        let lines = Inbox<String>()
        self.process = process
        self.input = stdin.fileHandleForWriting
        self.lines = lines
        let buffer = LineBuffer()
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if chunk.isEmpty {
                handle.readabilityHandler = nil
                lines.finish()
                return
            }
            let complete: [String] = buffer.data.withLock { data in
                data.append(chunk)
                var found: [String] = []
                while let newline = data.firstIndex(of: UInt8(ascii: "\n")) {
                    found.append(String(decoding: data[data.startIndex..<newline], as: UTF8.self))
                    data.removeSubrange(data.startIndex...newline)
                }
                return found
            }
            for line in complete { lines.put(line) }
        }
        try process.run()
    }

    struct DriverError: Error, CustomStringConvertible { let description: String }

    /// Sends one command and waits (bounded) for its answer's value.
    @discardableResult
    func call(_ command: [String: any Sendable], timeout: Duration = .seconds(40)) async throws -> Any? {
        let data = try JSONSerialization.data(withJSONObject: command)
        try input.write(contentsOf: data + Data("\n".utf8))
        guard let line = await lines.next(timeout: timeout) else {
            throw DriverError(description: "the browser driver did not answer \(command["op"] ?? "?") in \(timeout)")
        }
        guard let answer = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw DriverError(description: "the browser driver answered \(line.prefix(200))")
        }
        guard answer["ok"] as? Bool == true else {
            throw DriverError(description: "\(command["op"] ?? "?") \(command["testid"] ?? ""): \(answer["error"] ?? "failed")")
        }
        return answer["value"]
    }

    func open(_ name: String) async throws {
        try await call(["op": "open", "name": name, "chromium": Self.chromium, "chromedriver": Self.chromedriver])
    }

    func stop() async {
        _ = try? await call(["op": "quit"], timeout: .seconds(20))
        try? input.close()
        if process.isRunning { process.terminate() }
    }
}

/// The bytes read so far that end in no newline yet.
private final class LineBuffer: Sendable {
    let data = Mutex(Data())
}
