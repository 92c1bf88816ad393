import AsyncHTTPClient
import ChatApp
import Foundation
import NIOCore
import PeerSupport
import Testing

/// The example's command line as the README has a new user type it, run as a process: standard
/// output carries a command's result alone, logs and errors go to standard error.
@Suite struct ChatCommandLineTests {
    /// The built `chat-example` beside this test binary (`swift build` builds it).
    static var executable: URL? { ChatBinary.vapor.executable }

    /// The executable of `binary`, or `nil` after recording why: a failure in CI, a skip message outside it.
    static func requireExecutable(_ test: String, _ binary: ChatBinary = .vapor) -> URL? {
        if let executable = binary.executable { return executable }
        let message = "\(binary.rawValue) is not built beside the tests: run `swift build` first"
        if PythonPeer.required {
            Issue.record(Comment(rawValue: message))
        } else {
            print("SKIPPED \(test): \(message)")
        }
        return nil
    }

    func run(_ arguments: String..., database: String, binary: ChatBinary = .vapor) async throws -> PythonPeer.Output {
        let executable = try #require(binary.executable)
        return try await PythonPeer.run(executable, arguments, input: Data(), environment: ["CHAT_DATABASE": database])
    }

    // `gateway export --format yaml > api.yaml` wrote four `[ NOTICE ] route …` lines before the
    // template, and cfn-lint refused the file.
    @Test(arguments: ChatBinary.allCases) func anExportRedirectedToAFileIsTheTemplate(_ binary: ChatBinary) async throws {
        guard Self.requireExecutable("anExportRedirectedToAFileIsTheTemplate", binary) != nil else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("chat.sqlite").path
        let configured = try await run(
            "gateway", "configure", "--gateway", "chat", "--public-url", "https://backend.example.com", database: database, binary: binary)
        #expect(configured.status == 0, "\(String(decoding: configured.stderr, as: UTF8.self))")
        let export = try await run("gateway", "export", "--gateway", "chat", "--format", "yaml", database: database, binary: binary)
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
        let failed = try await run("gateway", "apply", "--gateway", "nosuch", database: database, binary: binary)
        let message = String(decoding: failed.stderr, as: UTF8.self)
        #expect(failed.status == 1 && failed.stdout.isEmpty)
        #expect(
            message.hasPrefix("Error: no gateway named 'nosuch'") && !message.contains("WARNING") && !message.contains("Abort"),
            "\(message)")
    }

    /// `chat-example publish` while the app runs: a member hears the message with its position, the
    /// command prints the position and the delivery; the same key again sends nothing; mistakes
    /// are an `Error:` line and status 1.
    @Test(arguments: ChatBinary.allCases) func thePublishCommandReachesTheRunningApp(_ binary: ChatBinary) async throws {
        guard let executable = Self.requireExecutable("thePublishCommandReachesTheRunningApp", binary) else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("publish-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (chat, port, socket) = try await Self.serving(executable, in: folder, environment: ["CHAT_ORIGINS": "127.0.0.1"])
        defer { chat.stop() }
        let cookie = try await ScaleOutTests().login("ada", at: "http://127.0.0.1:\(port)")
        let client = try await TestClient.connect(socket + "?channel=lobby", headers: ["Cookie": cookie, "Origin": "http://127.0.0.1"])
        let database = chat.database.path
        let message = #"{"type":"message","from":"ops","text":"deploy at 5"}"#
        let published = try await run("publish", "--channel", "lobby", "--json", message, "--idempotency-key", "deploy-1", database: database, binary: binary)
        let printed = String(decoding: published.stdout, as: UTF8.self)
        #expect(published.status == 0, "\(String(decoding: published.stderr, as: UTF8.self))")
        #expect(printed.hasPrefix("Published channel:lobby at offset 1 (epoch ") && printed.contains("sent 1, gone 0, failed 0"), "\(printed)")
        let heard = await client.next(timeout: .seconds(10)) ?? ""
        #expect(streamed(heard) == ["channel": "lobby", "type": "message", "from": "ops", "text": "deploy at 5"], "\(heard)")

        let again = try await run("publish", "--channel", "lobby", "--json", message, "--idempotency-key", "deploy-1", database: database, binary: binary)
        #expect(String(decoding: again.stdout, as: UTF8.self).hasPrefix("Already published: channel:lobby at offset 1"))
        #expect(await client.next(timeout: .milliseconds(500)) == nil, "nothing sent again")

        for (arguments, expected) in [
            (["publish", "--channel", "lobby"], "Error: publish needs --json"),
            (["publish", "--json", message], "Error: publish needs --channel NAME or --user ID"),
            (["publish", "--channel", "lobby", "--json", "[1,2]"], "Error: --json: not a JSON object"),
            (["publish", "--channel", "no spaces", "--json", message], "Error: --channel:"),
        ] {
            let failed = try await PythonPeer.run(executable, arguments, input: Data(), environment: ["CHAT_DATABASE": database])
            let error = String(decoding: failed.stderr, as: UTF8.self)
            #expect(failed.status == 1 && failed.stdout.isEmpty && error.hasPrefix(expected), "\(arguments): \(error)")
        }
        try await client.close()
    }

    /// `serve --authorizer`, on either example: the API's `$connect` is authorized by the app's own
    /// Lambda-style authorizer (applied through the planner), which lets in a connect bringing a
    /// connection token as the token's user, without the cookie; none, or a bogus one, is 401
    /// before the backend hears of it.
    @Test(arguments: ChatBinary.allCases) func theAuthorizerFlagSaysWhoConnects(_ binary: ChatBinary) async throws {
        guard let executable = Self.requireExecutable("theAuthorizerFlagSaysWhoConnects", binary) else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("authorizer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (chat, port, socket) = try await Self.serving(
            executable, in: folder, arguments: ["--hostname", "127.0.0.1", "--authorizer"], environment: ["CHAT_ORIGINS": "127.0.0.1"])
        defer { chat.stop() }
        let backend = "http://127.0.0.1:\(port)"
        let cookie = try await ScaleOutTests().login("ada", at: backend)
        var issue = HTTPClientRequest(url: backend + "/ws/token")
        issue.method = .POST
        issue.headers.add(name: "Cookie", value: cookie)
        issue.headers.add(name: "Origin", value: "http://127.0.0.1")
        let issued = try await HTTPClient.shared.execute(issue, timeout: .seconds(10))
        let body = try await issued.body.collect(upTo: 1 << 16)
        let token = try #require((try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])?["token"] as? String)

        let port8 = try #require(URLComponents(string: socket)?.port)
        let path = try #require(URLComponents(string: socket)?.path)
        func logged(_ line: String) -> Int { chat.stderr.components(separatedBy: line).count - 1 }
        let connectsBefore = logged("POST /ws/connect")
        for query in ["?channel=lobby", "?channel=lobby&ws_token=not-a-token"] {
            // A refused upgrade is a plain HTTP answer: an HTTP client reads its status.
            var upgrade = HTTPClientRequest(url: "http://127.0.0.1:\(port8)" + path + query)
            for (name, value) in [
                ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Version", "13"), ("Origin", "http://127.0.0.1"),
            ] { upgrade.headers.add(name: name, value: value) }
            let refused = try await HTTPClient.shared.execute(upgrade, timeout: .seconds(10))
            #expect(refused.status.code == 401, "\(query): \(refused.status)")
        }
        #expect(logged("POST /ws/connect") == connectsBefore, "the backend heard of neither refused connect")
        #expect(logged("POST /authorizer") == 1, "the bogus token was put to the authorizer; no token was refused before it")
        let client = try await TestClient.connect(socket + "?channel=lobby&ws_token=\(token)", headers: ["Origin": "http://127.0.0.1"])
        try await client.send(#"{"action":"whoami"}"#)
        #expect(await client.next()?.contains(#""user":"ada""#) == true, "the authorizer's principal is the user")
        try await client.close()
        #expect(logged("POST /authorizer") == 2)
    }

    /// `chat-example listen --channel lobby` while the app runs: the Swift client signs in with a
    /// token of the user, joins, and prints what is published to the channel, a JSON object a line.
    @Test(arguments: ChatBinary.allCases) func theListenCommandPrintsAChannelAsItArrives(_ binary: ChatBinary) async throws {
        guard let executable = Self.requireExecutable("theListenCommandPrintsAChannelAsItArrives", binary) else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("listen-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (chat, _, _) = try await Self.serving(executable, in: folder, environment: ["CHAT_ORIGINS": "127.0.0.1"])
        defer { chat.stop() }
        let output = folder.appendingPathComponent("listen.out"), errors = folder.appendingPathComponent("listen.err")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let listen = Process()
        listen.executableURL = executable
        listen.arguments = ["listen", "--channel", "lobby", "--user", "ada", "--count", "2", "--seconds", "60"]
        listen.environment = ProcessInfo.processInfo.environment.merging(["CHAT_DATABASE": chat.database.path]) { $1 }
        listen.standardOutput = try FileHandle(forWritingTo: output)
        listen.standardError = try FileHandle(forWritingTo: errors)
        try listen.run()
        defer { if listen.isRunning { listen.terminate() } }
        func text(_ file: URL) -> String { String(decoding: (try? Data(contentsOf: file)) ?? Data(), as: UTF8.self) }
        #expect(await eventually(timeout: .seconds(30)) { text(errors).contains("listening to lobby") }, "\(text(errors).suffix(600))")
        for line in ["deploy at 5", "deployed"] {
            let published = try await run(
                "publish", "--channel", "lobby", "--json", #"{"type":"message","from":"ops","text":"\#(line)"}"#, database: chat.database.path, binary: binary)
            #expect(published.status == 0, "\(String(decoding: published.stderr, as: UTF8.self))")
        }
        #expect(await eventually(timeout: .seconds(30)) { !listen.isRunning }, "listen stops after --count 2")
        let lines = text(output).split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[0].contains(#""text":"deploy at 5""#) && lines[1].contains(#""text":"deployed""#), "\(lines)")
        #expect(lines.allSatisfy { $0.contains(#""channel":"lobby""#) && $0.contains(#""offset":"#) })
    }

    /// `swift run chat-example`, then SIGTERM, as a container stop sends it: the app stops serving,
    /// closes its gateway's connections, and exits 0 in bounded time; a message sent just before
    /// the signal is answered first.
    @Test(arguments: ChatBinary.allCases) func sigtermStopsTheAppCleanly(_ binary: ChatBinary) async throws {
        guard let executable = Self.requireExecutable("sigtermStopsTheAppCleanly", binary) else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sigterm-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (chat, port, socket) = try await Self.serving(executable, in: folder, environment: ["CHAT_ORIGINS": "127.0.0.1"])
        defer { chat.stop() }
        let backend = "http://127.0.0.1:\(port)"
        let cookie = try await ScaleOutTests().login("ada", at: backend)
        let client = try await TestClient.connect(socket + "?channel=lobby", headers: ["Cookie": cookie, "Origin": "http://127.0.0.1"])
        try await client.send(#"{"action":"whoami"}"#)
        #expect(await client.next()?.contains(#""user":"ada""#) == true)
        try await client.send(#"{"action":"whoami"}"#)
        try await Task.sleep(for: .milliseconds(20))  // the frame reaches the gateway before the signal does
        kill(chat.process.processIdentifier, SIGTERM)
        let answered = await client.next(timeout: .seconds(5))
        #expect(answered?.contains(#""user":"ada""#) == true, "the message sent before the signal is answered")
        let status = await chat.exited.next(timeout: .seconds(20))
        #expect(status == 0, "exits 0 within 20 s: \(String(describing: status))")
        #expect(await client.closeCode(timeout: .seconds(5)) != nil, "the connection is closed as the gateway stops")
        let stderr = chat.stderr
        #expect(!stderr.contains("Fatal error") && !stderr.contains("Error:"), "\(stderr.suffix(600))")
    }
}

extension ChatCommandLineTests {
    /// The example serving on `127.0.0.1` with `arguments` after `serve`, on free ports, once it
    /// has applied its API: the process, its ports and the WebSocket URL it logged. A port taken
    /// between its choice and the bind (a client of another test took it) is tried again.
    static func serving(
        _ executable: URL, in folder: URL, arguments: [String] = ["--hostname", "127.0.0.1"], environment: [String: String] = [:]
    ) async throws -> (chat: ChatProcess, port: Int, socket: String) {
        for _ in 0..<3 {
            let (port, gatewayPort) = (try ScaleOutTests.Nginx.freePort(), try ScaleOutTests.Nginx.freePort())
            let chat = try ChatProcess(
                executable, in: folder, arguments: ["serve"] + arguments + ["--port", "\(port)"],
                environment: environment.merging(["CHAT_GATEWAY_PORT": "\(gatewayPort)"]) { mine, _ in mine })
            _ = await eventually(timeout: .seconds(30)) {
                chat.stderr.contains("applied through the planner") || chat.stderr.contains("Address already in use")
                    || !chat.process.isRunning
            }
            let applied = chat.stderr.split(separator: "\n").first { $0.contains("applied through the planner") } ?? ""
            if let socket = applied.split(whereSeparator: \.isWhitespace).first(where: { $0.hasPrefix("ws://") }).map(String.init) {
                return (chat, port, socket)
            }
            chat.stop()
            _ = await chat.exited.next(timeout: .seconds(10))
            guard chat.stderr.contains("Address already in use") else { break }
        }
        throw ChatBrowserFailure(description: "the example did not start serving")
    }

    struct ChatBrowserFailure: Error, CustomStringConvertible { let description: String }

    // Every start made a new API with a new id (`API p4xoj2azxt applied`, then `API iapy6hqf7q
    // applied` on the same folder): clients holding the WebSocket URL broke, sessions were orphaned.
    @Test(arguments: ChatBinary.allCases) func aRestartServesTheSameAPIAtTheSameURL(_ binary: ChatBinary) async throws {
        guard let executable = Self.requireExecutable("aRestartServesTheSameAPIAtTheSameURL", binary) else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("restart-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var paths: [String] = []
        for _ in 0..<2 {
            let (chat, _, socket) = try await Self.serving(executable, in: folder)
            defer { chat.stop() }
            paths.append(try #require(URLComponents(string: socket)?.path))  // `/{apiId}/{stage}`: the port may differ between runs
            kill(chat.process.processIdentifier, SIGTERM)
            #expect(await chat.exited.next(timeout: .seconds(20)) == 0)
        }
        #expect(paths[0] == paths[1], "the second start found its API: \(paths)")
    }

    // `serve --port 9000`, then the page on 9000: sign-in was refused 403 (the default origins
    // were the 8080 ones whatever the port), and a page on 8080 was accepted.
    @Test(arguments: ChatBinary.allCases) func theDefaultOriginsAreTheOnesTheAppServes(_ binary: ChatBinary) async throws {
        guard let executable = Self.requireExecutable("theDefaultOriginsAreTheOnesTheAppServes", binary) else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("origins-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (chat, port, _) = try await Self.serving(executable, in: folder, arguments: [])
        defer { chat.stop() }
        func login(from origin: String) async throws -> UInt {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/login")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.headers.add(name: "Origin", value: origin)
            request.body = .bytes(ByteBuffer(string: "name=ada&password=\(ChatDemo.defaultPassword)"))
            return try await HTTPClient.shared.execute(request, timeout: .seconds(10)).status.code
        }
        #expect(try await login(from: "http://127.0.0.1:\(port)") == 200, "the page the app serves")
        #expect(try await login(from: "http://localhost:\(port)") == 200)
        #expect(try await login(from: "http://127.0.0.1:8080") == 403, "another port is another site")
    }

    // `chat-example --help` migrated, created chat.sqlite and logged 14 lines.
    @Test(arguments: ChatBinary.allCases) func helpHasNoSideEffects(_ binary: ChatBinary) async throws {
        guard Self.requireExecutable("helpHasNoSideEffects", binary) != nil else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("help-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("chat.sqlite").path
        for arguments in [["--help"], ["gateway", "--help"], ["serve", "--help"]] {
            let executable = try #require(binary.executable)
            let help = try await PythonPeer.run(executable, arguments, input: Data(), environment: ["CHAT_DATABASE": database])
            let stdout = String(decoding: help.stdout, as: UTF8.self), stderr = String(decoding: help.stderr, as: UTF8.self)
            #expect(help.status == 0 && stdout.lowercased().contains("usage"), "\(arguments): \(stdout.prefix(300)) \(stderr.prefix(300))")
            #expect(stderr.isEmpty, "\(arguments) logged: \(stderr.prefix(600))")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty, "\(arguments) created nothing")
        }
    }

    @Test func theServedOriginsFollowTheServeArguments() {
        #expect(ChatSettings.servedOrigins(arguments: ["chat-example"]) == ["http://127.0.0.1:8080", "http://localhost:8080"])
        #expect(ChatSettings.servedOrigins(arguments: ["chat-example", "serve", "-p", "9000"]).first == "http://127.0.0.1:9000")
        #expect(
            ChatSettings.servedOrigins(arguments: ["chat-example", "serve", "--hostname", "chat.test", "--port", "9001"]).last
                == "http://chat.test:9001")
        #expect(ChatSettings.servedOrigins(arguments: ["chat-example", "serve", "--bind", "0.0.0.0:9002"]).count == 2)
    }
}

/// The chat's two examples as their users run them: `chat-example` (Vapor) and
/// `hummingbird-chat-example`, built beside the tests.
enum ChatBinary: String, CaseIterable, CustomStringConvertible, Sendable {
    case vapor = "chat-example"
    case hummingbird = "hummingbird-chat-example"

    var description: String { rawValue }

    var executable: URL? {
        let url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(rawValue)
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }
}

/// The chat example as a process in a folder of its own (its SQLite file there), its standard
/// error in `log`, its exit status delivered to `exited`.
struct ChatProcess {
    let process = Process()
    let log: URL
    let exited = Inbox<Int32>()
    let database: URL

    init(_ executable: URL, in folder: URL, arguments: [String], environment: [String: String]) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        database = folder.appendingPathComponent("chat.sqlite")
        log = folder.appendingPathComponent("stderr.log")
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(
            environment.merging(["CHAT_DATABASE": database.path]) { mine, _ in mine }
        ) { $1 }
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        let exited = exited
        process.terminationHandler = { exited.put($0.terminationStatus) }
        try process.run()
    }

    var stderr: String { String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self) }

    func stop() { if process.isRunning { process.terminate() } }
}
