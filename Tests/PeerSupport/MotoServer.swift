import AsyncHTTPClient
import Foundation

/// moto_server from the `.venv` PyPI peers, started on 127.0.0.1 at a free port for one test.
/// Outside CI a missing moto skips the test (returns nil, with a message); with `CI=true` the
/// test fails.
public final class MotoServer: Sendable {
    public let url: String
    private let process: Process

    private init(url: String, process: Process) {
        self.url = url
        self.process = process
    }

    /// A running moto_server, or `nil` (with a message printed) when moto is not installed.
    /// - Throws: ``MotoError`` when moto is missing and `CI=true`, or when it does not start.
    public static func start() async throws -> MotoServer? {
        guard let python = await PythonPeer.interpreter(importing: "moto.server") else {
            if PythonPeer.required { throw MotoError(description: PythonPeer.missingMessage("moto")) }
            print("SKIPPED (moto): \(PythonPeer.missingMessage("moto"))")
            return nil
        }
        let port = try freePort()
        let process = Process()
        process.executableURL = python
        process.arguments = ["-m", "moto.server", "-H", "127.0.0.1", "-p", "\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        environment["MOTO_RECORDER_FILEPATH"] = FileManager.default.temporaryDirectory.appendingPathComponent("moto-\(port).rec").path
        process.environment = environment
        try process.run()
        let server = MotoServer(url: "http://127.0.0.1:\(port)", process: process)
        // Wait until it answers, at most 30 s.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? await ping(port)) == true { return server }
            try await Task.sleep(for: .milliseconds(100))
        }
        server.stop()
        throw MotoError(description: "moto_server did not start on port \(port)")
    }

    /// Stops the server. moto_server ignores SIGTERM, so it gets SIGKILL (it keeps nothing to flush).
    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    public struct MotoError: Error, CustomStringConvertible { public let description: String }

    private static func ping(_ port: Int) async throws -> Bool {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)/moto-api/"), timeout: .seconds(1))
        _ = try await response.body.collect(upTo: 1 << 20)
        return true
    }

    private static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(socket, raw, length) == 0, getsockname(socket, raw, &length) == 0 else {
                    throw MotoError(description: "no free port")
                }
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
