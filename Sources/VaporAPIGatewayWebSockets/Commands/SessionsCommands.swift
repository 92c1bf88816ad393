import APIGatewayWebSockets
import APIGatewayWebSocketsCommands
import Foundation
public import Vapor

/// `sessions <command>`: the session rows.
///
/// ```sh
/// swift run App sessions clear --older-than-days 7
/// swift run App sessions sweep
/// ```
public struct SessionsCommands: AsyncCommandGroup {
    public let commands: [String: any AnyAsyncCommand] = ["clear": ClearSessionsCommand(), "sweep": SweepSessionsCommand()]

    public var help: String { "Deletes disconnected WebSocket sessions, or marks expired ones disconnected." }

    public init() {}
}

/// `sessions clear`.
struct ClearSessionsCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "older-than-days", help: "Only those disconnected at least this many days ago (default 0)")
        var days: Int?
        init() {}
    }

    var help: String { "Deletes disconnected sessions." }

    func run(using context: CommandContext, signature: Signature) async throws {
        for line in try await context.maintenance.clearSessions(olderThanDays: signature.days) { context.console.print(line) }
    }
}

/// `sessions sweep`.
struct SweepSessionsCommand: AsyncCommand {
    struct Signature: CommandSignature { init() {} }

    var help: String {
        "Marks disconnected the sessions API Gateway has certainly closed: those older than its 2-hour maximum connection duration."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        for line in try await context.maintenance.sweepSessions() { context.console.print(line) }
    }
}
