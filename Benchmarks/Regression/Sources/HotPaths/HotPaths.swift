import APIGatewayAWS
import APIGatewayLocal
import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import FluentSQLiteDriver
import Foundation
import HTTPTypes
import NIOCore
import SQLKit
import Synchronization
import Vapor
import VaporAPIGatewayWebSockets

/// The hot pieces of the event path, each set up once and then run as one operation: what the
/// regression benchmarks count (allocations with package-benchmark, instructions with callgrind).
public enum HotPath: String, CaseIterable, Sendable {
    /// SigV4 for one `@connections` post: canonical request, string to sign, HMAC chain (cached
    /// signing key), `Authorization` header.
    case sigV4Sign = "sigv4-sign"
    /// The local gateway's route selection, `$request.body.action`, on a small message.
    case routeSelection = "route-selection"
    /// A reply's payload: a small `Encodable` to JSON, then marked with the request's id.
    case payloadEncoding = "payload-encoding"
    /// One message event through the dispatcher in process: guards, session touch (memory
    /// store), handler selection and decoding, the reply handed to a poster that drops it.
    case dispatchMessage = "dispatch-message"
    /// The same message on a two-way route: the reply is the response's body, no poster.
    case dispatchTwoWay = "dispatch-two-way"
    /// The live-session touch on a SQLite file in WAL mode (`UPDATE … RETURNING` through Fluent).
    case storeTouch = "store-touch"
    /// A `$connect` and its `$disconnect` through the dispatcher on that SQLite store: the guards,
    /// the session's insert, the mark.
    case connectDisconnect = "connect-disconnect"
}

/// One hot path, ready to run: ``run()`` is the operation measured.
public final class HotPathRunner: Sendable {
    public let path: HotPath
    private let operation: @Sendable () async throws -> Void
    private let teardown: @Sendable () async throws -> Void

    private init(
        _ path: HotPath, operation: @escaping @Sendable () async throws -> Void,
        teardown: @escaping @Sendable () async throws -> Void = {}
    ) {
        self.path = path
        self.operation = operation
        self.teardown = teardown
    }

    public func run() async throws { try await operation() }
    public func shutdown() async throws { try await teardown() }

    public static func make(_ path: HotPath) async throws -> HotPathRunner {
        switch path {
        case .sigV4Sign: return sigV4()
        case .routeSelection: return routeSelection()
        case .payloadEncoding: return payloadEncoding()
        case .dispatchMessage: return try await dispatchMessage()
        case .dispatchTwoWay: return try await dispatchMessage(twoWay: true)
        case .storeTouch: return try await storeTouch()
        case .connectDisconnect: return try await connectDisconnect()
        }
    }

    static let apiID: APIID = "hotpaths01"

    static func sigV4() -> HotPathRunner {
        let signer = SigV4Signer(service: "execute-api", region: "eu-west-1")
        let credential = Credential(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        let date = Date(timeIntervalSince1970: 1_780_000_000)
        let body = Array(#"{"type":"message","channel":"lobby","from":"ada","text":"hello, everyone"}"#.utf8)
        return HotPathRunner(.sigV4Sign) {
            var request = SigV4Request(
                method: "POST", host: "abc123defg.execute-api.eu-west-1.amazonaws.com",
                path: "/production/%40connections/L0SM9cOFvHcCIhw%3D", headers: [("Content-Type", "application/json")], body: body)
            signer.sign(&request, credential: credential, date: date)
            precondition(request.headers.count == 3)
        }
    }

    static func routeSelection() -> HotPathRunner {
        let body = Data(#"{"action":"sendmessage","channel":"lobby","text":"hello, everyone"}"#.utf8)
        return HotPathRunner(.routeSelection) {
            precondition(RouteSelection.evaluate("$request.body.action", body: body) == "sendmessage")
        }
    }

    struct Chat: Encodable, Sendable {
        let type = "message"
        let channel: String
        let from: String
        let text: String
    }

    static func payloadEncoding() -> HotPathRunner {
        let chat = Chat(channel: "lobby", from: "ada", text: "hello, everyone")
        return HotPathRunner(.payloadEncoding) {
            let payload = try Payload(json: chat).answering("m-17")
            precondition(payload.bytes.readableBytes > 0)
        }
    }

    /// Posts nothing, answers `sent`.
    struct DroppingPoster: ConnectionPoster {
        func post(_ payload: Payload, to connection: ConnectionID, on gateway: GatewayRecord) async throws -> PostResult { .sent }
        func close(_ connection: ConnectionID, on gateway: GatewayRecord) async throws -> PostResult { .sent }
    }

    struct EchoController: WebSocketController {
        let routeKey = RouteKey.default
        var twoWay = false
        struct Echo: Decodable, Sendable { let text: String }
        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.on("echo", Echo.self) { message, context in try await context.reply(["echo": message.text]) }
        }
    }

    /// Delivers to the dispatcher in process.
    struct DirectTransport: GatewayTransport {
        let dispatcher: GatewayDispatcher
        func send(_ request: GatewayRequest) async throws -> GatewayResponse {
            guard let endpoint = dispatcher.endpoint(at: request.path) else { return GatewayResponse(status: .notFound) }
            return await dispatcher.handle(request, at: endpoint)
        }
    }

    static func dispatchMessage(twoWay: Bool = false) async throws -> HotPathRunner {
        let record = GatewayRecord(apiID: apiID, stage: "production", region: "eu-west-1")
        let dispatcher = GatewayDispatcher(
            configuration: GatewayConfiguration(secrets: ["hot-paths-secret"]), store: InMemoryConnectionStore(),
            gateways: CachedGatewayDirectory([record]), poster: DroppingPoster())
        _ = try dispatcher.register(EchoController(twoWay: twoWay))
        let gateway = FakeAPIGateway(
            apiID: apiID, stage: "production", routes: dispatcher.routes, secret: "hot-paths-secret",
            transport: DirectTransport(dispatcher: dispatcher))
        let connection = try await gateway.connect()
        precondition(connection.isAccepted)
        let request = try connection.request(for: ByteBuffer(string: #"{"action":"echo","text":"hello, benchmark"}"#))
        let transport = gateway.transport
        return HotPathRunner(twoWay ? .dispatchTwoWay : .dispatchMessage) {
            let response = try await transport.send(request)
            precondition(response.status == .ok && (response.body.readableBytes > 0) == twoWay)
        }
    }

    /// An app on a fresh SQLite file as the example runs it (WAL, commits without a full fsync, one
    /// writer connection), its store, and how to shut it down.
    static func sqliteStore() async throws -> (FluentConnectionStore, teardown: @Sendable () async throws -> Void) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hotpaths-\(UUID().uuidString).sqlite").path
        var environment = Environment.production
        environment.arguments = ["hotpaths"]
        let app = try await Application.make(environment)
        app.logger.logLevel = .error
        app.databases.use(.sqlite(.file(file)), as: .sqlite)
        app.migrations.add(WebSocketMigrations.all)
        try await app.autoMigrate()
        for eventLoop in app.eventLoopGroup.makeIterator() {
            let sql = app.databases.database(.sqlite, logger: app.logger, on: eventLoop) as! any SQLDatabase
            try await sql.raw("PRAGMA journal_mode = WAL").run()
            try await sql.raw("PRAGMA synchronous = NORMAL").run()
        }
        let writer = app.eventLoopGroup.next()
        let store = FluentConnectionStore { app.databases.database(.sqlite, logger: app.logger, on: writer)! }
        return (
            store,
            {
                try await app.asyncShutdown()
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }
            }
        )
    }

    static func connectDisconnect() async throws -> HotPathRunner {
        let (store, teardown) = try await sqliteStore()
        let record = GatewayRecord(apiID: apiID, stage: "production", region: "eu-west-1")
        let dispatcher = GatewayDispatcher(
            configuration: GatewayConfiguration(secrets: ["hot-paths-secret"]), store: store,
            gateways: CachedGatewayDirectory([record]), poster: DroppingPoster())
        let endpoints = try dispatcher.register(EchoController())
        let connect = endpoints.first { $0.route.event == .connect }!
        let disconnect = endpoints.first { $0.route.event == .disconnect }!
        // API Gateway's headers, made once: only the connection id changes (the test kit's
        // builder formats a fresh trace id per request, which would be most of what is counted).
        var fields = HTTPFields()
        fields[.userAgent] = "AmazonAPIGateway_\(apiID)"
        fields[.apiGatewayAPIID] = apiID.rawValue
        fields[.amznTraceID] = "Root=1-5f84c7a9-0123456789abcdef01234567"
        fields[.xForwardedFor] = "203.0.113.7"
        fields[.gatewaySecret] = "hot-paths-secret"
        let headers = fields
        let next = Counter()
        return HotPathRunner(
            .connectDisconnect,
            operation: {
                var fields = headers
                fields[.connectionID] = String(format: "C%014d=", next.value.add(1, ordering: .relaxed).newValue)
                let connected = await dispatcher.handle(
                    GatewayRequest(path: connect.route.path, headerFields: fields), at: connect)
                precondition(connected.status == .ok)
                let gone = await dispatcher.handle(GatewayRequest(path: disconnect.route.path, headerFields: fields), at: disconnect)
                precondition(gone.status == .ok)
            },
            teardown: teardown)
    }

    static func storeTouch() async throws -> HotPathRunner {
        let (store, teardown) = try await sqliteStore()
        let id = try ConnectionID("L0SM9cOFvHcCIhw=")
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        _ = try await store.connect(
            Session(connectionID: id, apiID: apiID, stage: "production", createdAt: now, updatedAt: now), joining: nil)
        return HotPathRunner(
            .storeTouch,
            operation: {
                let session = try await store.touch(id, apiID: apiID, at: now)
                precondition(session != nil)
            },
            teardown: teardown)
    }
}

/// The connect piece's next connection number.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
