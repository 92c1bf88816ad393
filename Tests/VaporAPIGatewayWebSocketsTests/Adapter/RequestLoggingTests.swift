import Logging
import NIOCore
import Synchronization
import Testing
import Vapor
import VaporAPIGatewayWebSockets

/// What a client sends cannot write the app's log.
@Suite struct RequestLoggingTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
    }

    struct Capture: LogHandler {
        let lines: Lines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let line = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + " \(event.message)"
            lines.lines.withLock { $0.append(line) }
        }
    }

    struct OK: AsyncResponder {
        func respond(to request: Request) async throws -> Response {
            request.logger.info("handled")
            return Response(status: .ok)
        }
    }

    // A client-chosen X-Request-Id became the request id of every line, and a %0A in a path was
    // logged decoded: a line break that starts a forged line.
    @Test func theClientNeitherNamesTheRequestNorBreaksTheLine() async throws {
        let app = try await Application.make(.testing)
        let lines = Lines()
        let request = Request(
            application: app, method: .POST,
            url: URI(string: "/ws/connect%0A2026-12-03T08:00:00Z%20critical%20admin%20logged%20in"),
            headers: ["X-Request-Id": "someone-elses-request"], logger: Logger(label: "test") { _ in Capture(lines: lines) },
            on: app.eventLoopGroup.any())
        _ = try await RequestLogging().respond(to: request, chainingTo: OK())
        let logged = lines.lines.withLock { $0 }
        #expect(logged.count == 2)
        #expect(logged.allSatisfy { !$0.contains("\n") }, "\(logged)")
        #expect(logged[0].hasSuffix(#"POST /ws/connect\n2026-12-03T08:00:00Z critical admin logged in"#), "\(logged[0])")
        #expect(logged.allSatisfy { !$0.split(separator: " ").contains("request-id=someone-elses-request") }, "the app names its requests")
        #expect(
            logged.allSatisfy { $0.split(separator: " ").contains("client-request-id=someone-elses-request") },
            "the client's id is kept apart")
        try await app.asyncShutdown()
    }
}
