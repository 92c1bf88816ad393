import Foundation
import PeerSupport
import Testing

/// The example's command line as the README has a new user type it, run as a process: standard
/// output carries a command's result alone, logs and errors go to standard error.
@Suite struct ChatCommandLineTests {
    /// The built `chat-example` beside this test binary (`swift build` builds it).
    static var executable: URL? {
        let url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("chat-example")
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }

    func run(_ arguments: String..., database: String) async throws -> PythonPeer.Output {
        let executable = try #require(Self.executable)
        return try await PythonPeer.run(executable, arguments, input: Data(), environment: ["CHAT_DATABASE": database])
    }

    // `gateway export --format yaml > api.yaml` wrote four `[ NOTICE ] route …` lines before the
    // template, and cfn-lint refused the file.
    @Test func anExportRedirectedToAFileIsTheTemplate() async throws {
        guard Self.executable != nil else {
            let message = "chat-example is not built beside the tests: run `swift build` first"
            if PythonPeer.required {
                Issue.record(Comment(rawValue: message))
            } else {
                print("SKIPPED anExportRedirectedToAFileIsTheTemplate: \(message)")
            }
            return
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("chat.sqlite").path
        let configured = try await run(
            "gateway", "configure", "--gateway", "chat", "--public-url", "https://backend.example.com", database: database)
        #expect(configured.status == 0, "\(String(decoding: configured.stderr, as: UTF8.self))")
        let export = try await run("gateway", "export", "--gateway", "chat", "--format", "yaml", database: database)
        let yaml = String(decoding: export.stdout, as: UTF8.self)
        #expect(
            export.status == 0 && yaml.hasPrefix("AWSTemplateFormatVersion:"), "standard output is the template alone: \(yaml.prefix(200))")
        #expect(!yaml.contains("NOTICE") && !yaml.contains("route $connect"))
        let file = folder.appendingPathComponent("api.yaml")
        try export.stdout.write(to: file)
        if let python = await PythonPeer.require("cfnlint", named: "cfn-lint") {
            let lint = try await PythonPeer.run(
                python.deletingLastPathComponent().appendingPathComponent("cfn-lint"), [file.path], input: Data())
            #expect(lint.status == 0, "cfn-lint: \(String(decoding: lint.stdout, as: UTF8.self))")
        }
        // A failed command: its message on standard error, exit status 1, nothing on standard output.
        let failed = try await run("gateway", "apply", "--gateway", "nosuch", database: database)
        let message = String(decoding: failed.stderr, as: UTF8.self)
        #expect(failed.status == 1 && failed.stdout.isEmpty)
        #expect(
            message.hasPrefix("Error: no gateway named 'nosuch'") && !message.contains("WARNING") && !message.contains("Abort"),
            "\(message)")
    }
}
