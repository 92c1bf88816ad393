public import APIGatewayWebSockets
import Foundation
public import HTTPTypes
import NIOCore
import Synchronization

/// What every adapter (a door from a web framework to the core) must do, checked over real
/// HTTP on 127.0.0.1: mount the dispatcher's URLs, hand it each request whole (path, query,
/// headers, body), pass its answer back untouched, and give `$connect` the app's login.
///
/// A door's tests start it for each check and run them all:
///
/// ```swift
/// @Test(arguments: AdapterConformance.checks)
/// func conforms(_ check: AdapterConformance.Check) async throws {
///     try await check.run { setup in try await startMyDoor(setup) }
/// }
/// ```
public enum AdapterConformance {
    /// What a door serves in a check.
    public struct Setup: Sendable {
        public let configuration: GatewayConfiguration
        public let store: InMemoryConnectionStore
        public let poster: RecordingPoster
        /// The one API whose events are accepted.
        public let gateway: GatewayRecord
        /// Register each, in order, at its path (`nil`: the default path).
        public let controllers: [(controller: any WebSocketController, path: String?)]
        /// The door's login for the check: on `$connect`, the user this request header names.
        public let userHeader: HTTPField.Name
        let seen: Seen
    }

    /// A door serving a ``Setup``.
    public struct Door: Sendable {
        /// `http://127.0.0.1:PORT`.
        public let baseURL: String
        /// The URLs the door serves (the dispatcher's ``GatewayDispatcher/routes``).
        public let routes: [RegisteredRoute]
        public let stop: @Sendable () async throws -> Void

        public init(baseURL: String, routes: [RegisteredRoute], stop: @escaping @Sendable () async throws -> Void) {
            self.baseURL = baseURL
            self.routes = routes
            self.stop = stop
        }
    }

    public typealias Start = @Sendable (Setup) async throws -> Door

    public struct Check: Sendable, CustomStringConvertible {
        public let name: String
        let body: @Sendable (Rig) async throws -> Void
        public var description: String { name }

        /// Starts a door on a fresh setup with `start`, runs the check, stops the door.
        public func run(_ start: Start) async throws {
            let seen = Seen()
            let setup = Setup(
                configuration: GatewayConfiguration(secrets: [AdapterConformance.secret], gatewayIdentity: .authorizerPrincipal()),
                store: InMemoryConnectionStore(), poster: RecordingPoster(),
                gateway: GatewayRecord(apiID: "adapter1", stage: "test", region: "us-east-1"),
                controllers: [(DefaultController(seen: seen), nil), (NotesController(), "/events/notes")],
                userHeader: AdapterConformance.userHeader, seen: seen)
            let door = try await start(setup)
            do {
                try await body(Rig(setup: setup, door: door))
            } catch {
                try await door.stop()
                throw error
            }
            try await door.stop()
        }
    }

    /// A check's failure: what was expected, and what the door answered.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    static let secret = "adapter-conformance-secret"
    public static let userHeader = HTTPField.Name("X-Conformance-User")!

    /// The checks, each on a fresh door.
    public static let checks: [Check] = [
        Check(name: "connect, message with a reply, disconnect at the registered paths") { rig in
            let connection = try await rig.gateway().connect()
            try expect(connection.connectResponse.status == .ok, "$connect answered \(connection.connectResponse.status)")
            try expect(try await connection.send(#"{"action":"echo","n":1}"#).status == .ok, "the message")
            try expect(rig.setup.poster.texts(to: connection.id) == [#"{"echo":"{\"action\":\"echo\",\"n\":1}"}"#], "the reply posted")
            try expect(try await connection.disconnect().status == .ok, "$disconnect")
            try expect(try await rig.setup.store.session(connection.id)?.connected == false, "the session marked disconnected")
        },
        Check(name: "a custom route at its own path, its handler picked by the body") { rig in
            let connection = try await rig.gateway().connect()
            let answer = try await connection.send(#"{"action":"notes","handler":"add","text":"hi"}"#)
            try expect(answer.status == .ok, "notes answered \(answer.status)")
            try expect(rig.setup.poster.texts(to: connection.id) == [#"{"added":"hi"}"#], "the notes handler replied")
        },
        Check(name: "the connect query reaches the core") { rig in
            let connection = try await rig.gateway().connect(query: ["channel": "lobby", "name": "a b&c"])
            try expect(connection.isAccepted, "$connect answered \(connection.connectResponse.status)")
            let channels = try await rig.setup.store.channels(of: connection.id, apiID: rig.setup.gateway.apiID)
            try expect(channels.map(\.rawValue) == ["lobby"], "joined \(channels)")
            let name = rig.setup.seen.names.withLock { $0[connection.id] }
            try expect(name == "a b&c", "the connect hook read name=\(String(describing: name))")
        },
        Check(name: "a refusal keeps its status, reason and content type") { rig in
            var wrong = rig.gateway()
            wrong.secret = "not-the-secret"
            let refused = try await wrong.connect()
            try expect(refused.connectResponse.status == .forbidden, "a wrong secret: \(refused.connectResponse.status)")
            try expect(refused.connectResponse.headerFields[.contentType]?.hasPrefix("application/json") == true, "JSON")
            let reason = String(buffer: refused.connectResponse.body)
            try expect(reason.hasPrefix(#"{"message":""#) && reason.count > 14, "the reason in the body: \(reason)")
            var other = rig.gateway()
            other.apiID = "unknown1"
            let unknown = try await other.connect()
            try expect(unknown.connectResponse.status.kind == .clientError, "an unregistered API: \(unknown.connectResponse.status)")
            let stranger = try await rig.gateway().connect()
            let refusedMessage = try await FakeConnection(
                id: FakeAPIGateway.makeConnectionID(), gateway: rig.gateway(), connectResponse: stranger.connectResponse
            ).send(#"{"action":"echo"}"#)
            try expect(
                refusedMessage.status == .gone || refusedMessage.status.kind == .clientError,
                "an unknown connection: \(refusedMessage.status)")
        },
        Check(name: "an oversize body is 413, a body at the limit is served") { rig in
            let connection = try await rig.gateway().connect()
            let limit = rig.setup.configuration.maxBodySize
            let (head, tail) = (#"{"action":"size","pad":""#, #""}"#)
            let atLimit = head + String(repeating: "x", count: limit - head.utf8.count - tail.utf8.count) + tail
            try expect(atLimit.utf8.count == limit, "the body is \(atLimit.utf8.count) bytes")
            let served = try await connection.send(atLimit)
            try expect(served.status == .ok, "a body of exactly \(limit) bytes: \(served.status)")
            try expect(rig.setup.poster.texts(to: connection.id) == [#"{"bytes":\#(limit)}"#], "the handler had it whole")
            for size in [limit + 1, limit * 4] {
                let answer = try await connection.send(ByteBuffer(repeating: UInt8(ascii: "x"), count: size))
                try expect(answer.status == .contentTooLarge, "\(size) bytes: \(answer.status)")
            }
        },
        Check(name: "the door's login reaches $connect") { rig in
            let known = try await rig.gateway().connect(headers: [rig.setup.userHeader: "ada"])
            try expect(known.isAccepted, "$connect as ada: \(known.connectResponse.status)")
            try expect(try await rig.setup.store.session(known.id)?.userID == "ada", "the session's user")
            try expect(try await known.send(#"{"action":"members"}"#).status == .ok, "a logged-in user's message")
            let anonymous = try await rig.gateway().connect()
            try expect(try await anonymous.send(#"{"action":"members"}"#).status == .unauthorized, "no login: 401")
        },
        Check(name: "the user API Gateway vouched for reaches $connect, behind the secret only") { rig in
            let vouched = try await rig.gateway().connect(
                headers: [GatewayIdentity.defaultHeader: "grace", GatewayIdentity.proofHeader: AdapterConformance.secret])
            try expect(vouched.isAccepted, "$connect as grace: \(vouched.connectResponse.status)")
            try expect(try await rig.setup.store.session(vouched.id)?.userID == "grace", "the session's user is the principal")
            try expect(try await vouched.send(#"{"action":"members"}"#).status == .ok, "grace counts as logged in")
            var forged = rig.gateway()
            forged.secret = "not-the-secret"
            let refused = try await forged.connect(
                headers: [GatewayIdentity.defaultHeader: "grace", GatewayIdentity.proofHeader: AdapterConformance.secret])
            try expect(refused.connectResponse.status == .forbidden, "the header without the secret: \(refused.connectResponse.status)")
            try expect(try await rig.setup.store.session(refused.id) == nil, "no session for it")
        },
        Check(name: "only POST is served") { rig in
            let path = try rig.gateway().path(for: .default)
            let answer = try await rig.transport.send(GatewayRequest(method: .get, path: path))
            try expect(answer.status == .notFound || answer.status == .methodNotAllowed, "GET \(path): \(answer.status)")
        },
        Check(name: "events run concurrently, none lost") { rig in
            let connection = try await rig.gateway().connect()
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for n in 0..<64 { group.addTask { try await connection.send(#"{"action":"echo","n":\#(n)}"#).status } }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            try expect(statuses.allSatisfy { $0 == .ok }, "\(Set(statuses.map(\.code)))")
            try expect(rig.setup.poster.texts(to: connection.id).count == 64, "64 replies")
            try expect(try await rig.setup.store.session(connection.id)?.requestCount == 64, "64 messages counted")
        },
    ]

    struct Rig {
        let setup: Setup
        let door: Door
        var transport: LiveTransport { LiveTransport(baseURL: door.baseURL) }
        func gateway() -> FakeAPIGateway {
            FakeAPIGateway(
                apiID: setup.gateway.apiID, stage: setup.gateway.stage, routes: door.routes, secret: AdapterConformance.secret,
                transport: transport)
        }
    }

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw Failure(description: message()) }
    }

    /// What the checks' controllers saw: the `name` query parameter of each `$connect`.
    final class Seen: Sendable {
        let names = Mutex<[ConnectionID: String]>([:])
    }

    /// The `$default` controller of the checks: `echo`, `whoami`, and `members` for users only.
    struct DefaultController: WebSocketController {
        let routeKey = RouteKey.default
        let seen: Seen
        func connect(_ context: ConnectContext) async throws -> ConnectDecision {
            if let name = context.queryParameter("name") { seen.names.withLock { $0[context.connectionID] = name } }
            return .accept(channel: context.requestedChannel)
        }
        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.onRaw("echo") { body, context in try await context.reply(["echo": String(buffer: body)]) }
            handlers.onRaw("size") { body, context in try await context.reply(["bytes": body.readableBytes]) }
            handlers.onRaw("whoami") { _, context in
                try await context.reply(["user": context.session.userID ?? ""])
            }
            handlers.onRaw("members", requires: .authenticated) { _, context in try await context.reply(["members": "welcome"]) }
        }
    }

    /// A custom route, `notes`, at a path of its own.
    struct NotesController: WebSocketController {
        let routeKey: RouteKey = "notes"
        struct Add: Decodable, Sendable { let text: String }
        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.on("add", Add.self) { note, context in try await context.reply(["added": note.text]) }
        }
    }
}
