import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Foundation
import HTTPTypes
import NIOCore

let apiID = APIID("abc123defg")
let otherAPIID = APIID("zzz999")

/// A dispatcher over an in-memory store and a recording poster, with a fake gateway in front.
struct Harness {
    let store = InMemoryConnectionStore()
    let poster = RecordingPoster()
    let dispatcher: GatewayDispatcher
    var gateway: FakeAPIGateway

    init(
        configuration: GatewayConfiguration = GatewayConfiguration(secrets: ["s3cret"]),
        records: [GatewayRecord] = [GatewayRecord(apiID: apiID, stage: "dev", region: "eu-west-1")],
        controllers: [any WebSocketController] = [EchoController()],
        customPaths: [String?] = [],
        permissions: (any PermissionSource)? = nil,
        authState: (any AuthStateSource)? = nil
    ) throws {
        dispatcher = GatewayDispatcher(
            configuration: configuration, store: store, gateways: CachedGatewayDirectory(records), poster: poster,
            permissions: permissions, authState: authState
        )
        for (index, controller) in controllers.enumerated() {
            _ = try dispatcher.register(controller, at: index < customPaths.count ? customPaths[index] : nil)
        }
        gateway = FakeAPIGateway(
            apiID: apiID, stage: "dev", routes: dispatcher.routes, secret: configuration.secrets.first,
            transport: DispatcherTransport(dispatcher: dispatcher)
        )
    }

    /// A connected client, checked to have been accepted.
    func connected(query: KeyValuePairs<String, String> = [:]) async throws -> FakeConnection {
        let connection = try await gateway.connect(query: query)
        guard connection.isAccepted else {
            throw FakeGatewayError(
                description: "connect refused: \(connection.connectResponse.status) \(connection.connectResponse.bodyText)")
        }
        return connection
    }

    /// Sends a raw request for `connection` with the headers edited by `edit`.
    func send(_ connection: FakeConnection, body: String, edit: (inout HTTPFields) -> Void) async throws -> GatewayResponse {
        var request = try connection.request(for: ByteBuffer(string: body))
        edit(&request.headerFields)
        return try await gateway.transport.send(request)
    }
}

extension GatewayResponse {
    var bodyText: String { String(buffer: body) }
    /// The `message` of a refusal body.
    var reason: String? {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])?["message"] as? String
    }
}

/// Replies `{"handler": name, "body": text}` from every handler, so tests see which one ran.
struct EchoController: WebSocketController {
    var routeKey = RouteKey.default
    var pinnedAPI: APIID? = nil
    var connectDecision: @Sendable (ConnectContext) async throws -> ConnectDecision = { _ in .accept }

    struct Named: Decodable, Sendable { let name: String }
    struct Nested: Decodable, Sendable { struct Inner: Decodable, Sendable { let count: Int }; let inner: Inner }

    func handlers(_ handlers: inout HandlerRegistry) {
        handlers.onRaw("default") { body, context in try await context.reply(["handler": "default", "body": String(buffer: body)]) }
        handlers.on("greet", Named.self) { message, context in try await context.reply(["handler": "greet", "name": message.name]) }
        handlers.on("nested", Nested.self) { message, context in
            try await context.reply(["handler": "nested", "count": "\(message.inner.count)"])
        }
        handlers.onRaw("quiet") { _, _ in }
        handlers.onRaw("boom") { _, _ in throw CocoaError(.fileNoSuchFile) }
        handlers.onRaw("teapot") { _, _ in throw Refusal(status: HTTPResponse.Status(code: 418), reason: "I'm a teapot") }
    }

    func connect(_ context: ConnectContext) async throws -> ConnectDecision { try await connectDecision(context) }
}

/// A `$default` controller whose default handler takes a typed message.
struct TypedDefaultController: WebSocketController {
    let routeKey = RouteKey.default
    func handlers(_ handlers: inout HandlerRegistry) {
        handlers.onDefault(EchoController.Named.self) { message, context in try await context.reply(["name": message.name]) }
    }
}

/// A controller with no default handler.
struct StrictController: WebSocketController {
    let routeKey = RouteKey("strict")
    func handlers(_ handlers: inout HandlerRegistry) {
        handlers.onRaw("only") { _, context in try await context.reply(["handler": "only"]) }
    }
}

/// Decodes the JSON object of a recorded post.
func json(_ text: String) -> [String: String] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]) ?? [:]
}
