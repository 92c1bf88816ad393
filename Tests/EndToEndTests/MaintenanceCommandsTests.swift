import Foundation
import PeerSupport
import Testing

/// The maintenance commands without Vapor (swift-argument-parser, `GatewayCLI`) and with it (the
/// Vapor door's) are one implementation: run as processes on one database, what one writes the
/// other lists, line for line, and both refuse a misuse with a reason and status 1.
@Suite struct MaintenanceCommandsTests {
    static func executable(_ name: String) -> URL? {
        let url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }

    func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

    @Test func bothDoorsCommandsShareTheirWorkAndTheirWords() async throws {
        guard let hummingbird = Self.executable("hummingbird-chat-example"), let vapor = Self.executable("chat-example") else {
            let message = "hummingbird-chat-example and chat-example are not built beside the tests: run `swift build` first"
            if PythonPeer.required { Issue.record(Comment(rawValue: message)) } else { print("SKIPPED \(#function): \(message)") }
            return
        }
        let database = TemporaryDatabase()
        defer { database.cleanUp() }
        let environment = ["CHAT_DATABASE": database.path, "CHAT_LOCAL_GATEWAY": "off"]
        func run(_ executable: URL, _ arguments: String...) async throws -> PythonPeer.Output {
            try await PythonPeer.run(executable, arguments, input: Data(), environment: environment)
        }

        let set = try await run(hummingbird, "channels", "set-rule", "ops", "--access", "permissions", "--permissions", "ops.read+ops.write,admin")
        #expect(set.status == 0, "\(text(set.stderr))")
        #expect(text(set.stdout).hasPrefix("ops: "), "\(text(set.stdout))")
        let fromHummingbird = try await run(hummingbird, "channels", "rules")
        let fromVapor = try await run(vapor, "channels", "rules")
        #expect(fromHummingbird.status == 0 && fromVapor.status == 0, "\(text(fromHummingbird.stderr)) \(text(fromVapor.stderr))")
        #expect(text(fromHummingbird.stdout).contains("ops: "), "\(text(fromHummingbird.stdout))")
        #expect(text(fromHummingbird.stdout) == text(fromVapor.stdout), "one implementation, one output")

        let removed = try await run(vapor, "channels", "remove-rule", "ops")
        #expect(text(removed.stdout) == "Removed the rule for ops.\n", "\(text(removed.stdout))")
        #expect(!text(try await run(hummingbird, "channels", "rules").stdout).contains("ops: "), "what Vapor removed, Hummingbird no longer lists")

        for executable in [hummingbird, vapor] {
            let bad = try await run(executable, "channels", "set-rule", "bad name!", "--access", "staff")
            #expect(bad.status == 1 && text(bad.stderr).contains("invalid channel name"), "\(executable.lastPathComponent): \(text(bad.stderr))")
            let counts = try await run(executable, "channels", "counts")
            #expect(counts.status == 1 && text(counts.stderr).contains("channels counts needs --api"), "\(text(counts.stderr))")
            let sweep = try await run(executable, "sessions", "sweep")
            #expect(sweep.status == 0 && text(sweep.stdout) == "Marked 0 expired session(s) disconnected.\n", "\(text(sweep.stdout))")
        }
        let cleanup = try await run(hummingbird, "cleanup")
        #expect(text(cleanup.stdout).contains("expired web sessions: 0") && text(cleanup.stdout).contains("stream history: 0"))
    }
}
