public import APIGatewayWebSockets
import Foundation
public import HTTPTypes
public import NIOCore

/// Something that delivers a ``GatewayRequest`` to a backend and returns its answer: the app in
/// process, or a live server over HTTP.
public protocol GatewayTransport: Sendable {
    func send(_ request: GatewayRequest) async throws -> GatewayResponse
}

/// Sends the requests API Gateway would send for a WebSocket API with `HTTP_PROXY` integrations,
/// so a test can connect, message and disconnect without AWS.
///
/// It sends what API Gateway sends (see the README's "what API Gateway sends" notes): on
/// `$connect` the client's headers and query string and an empty body; on messages and
/// `$disconnect` `User-Agent: AmazonAPIGateway_{apiID}`; on every event the mapped
/// `connectionId`, `X-Amzn-Apigateway-Api-Id`, a fresh `X-Amzn-Trace-Id`, `X-Forwarded-*` and the
/// gateway secret. Messages are routed like API Gateway with the expression
/// `$request.body.{routeSelectionKey}`: a matching route key's path, else `$default`.
///
/// ```swift
/// let gateway = FakeAPIGateway(apiID: apiID, routes: dispatcher.routes, secret: "s3cret", transport: transport)
/// let connection = try await gateway.connect(query: ["channel": "lobby"])
/// let response = try await connection.send(#"{"action":"sendmessage","text":"hi"}"#)
/// try await connection.disconnect()
/// ```
public struct FakeAPIGateway: Sendable {
    public var apiID: APIID
    public var stage: String
    /// The routes to deliver to, usually the dispatcher's ``GatewayDispatcher/routes``.
    public var routes: [RegisteredRoute]
    /// Sent as the secret header on every event when set.
    public var secret: String?
    public var secretHeader: HTTPField.Name
    /// The body key the route selection expression reads. Default `action`.
    public var routeSelectionKey: String
    /// The address API Gateway reports as the client's.
    public var sourceIP: String
    public var transport: any GatewayTransport

    public init(
        apiID: APIID,
        stage: String = "test",
        routes: [RegisteredRoute],
        secret: String? = nil,
        secretHeader: HTTPField.Name = .gatewaySecret,
        routeSelectionKey: String = "action",
        sourceIP: String = "203.0.113.7",
        transport: any GatewayTransport
    ) {
        self.apiID = apiID
        self.stage = stage
        self.routes = routes
        self.secret = secret
        self.secretHeader = secretHeader
        self.routeSelectionKey = routeSelectionKey
        self.sourceIP = sourceIP
        self.transport = transport
    }

    /// A `$connect`. The connection is returned whatever the backend answered; check
    /// ``FakeConnection/connectResponse`` (a 2xx means API Gateway would complete the handshake).
    /// - Parameters:
    ///   - query: the client's query string parameters, forwarded as API Gateway does.
    ///   - headers: the client's own headers (`Origin`, `Cookie`, …), forwarded on `$connect` only.
    ///   - connectionID: the id to use; a fresh API Gateway-shaped id by default.
    public func connect(
        query: KeyValuePairs<String, String> = [:],
        headers: HTTPFields = [:],
        connectionID: ConnectionID? = nil
    ) async throws -> FakeConnection {
        let id = connectionID ?? Self.makeConnectionID()
        var fields = HTTPFields()
        fields[.userAgent] = "Mozilla/5.0 (X11; Linux x86_64) FakeAPIGateway"
        fields[.secWebSocketKey] = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        fields[.secWebSocketVersion] = "13"
        fields[.secWebSocketExtensions] = "permessage-deflate; client_max_window_bits"
        for field in headers { fields[field.name] = field.value }
        addGatewayHeaders(to: &fields, connectionID: id)
        let queryString =
            query.isEmpty ? nil : query.map { "\(Self.formEncode($0.key))=\(Self.formEncode($0.value))" }.joined(separator: "&")
        let response = try await transport.send(
            GatewayRequest(method: .post, path: try path(for: .connect), query: queryString, headerFields: fields)
        )
        return FakeConnection(id: id, gateway: self, connectResponse: response)
    }

    /// The path registered for `routeKey`.
    public func path(for routeKey: RouteKey) throws -> String {
        guard let route = routes.first(where: { $0.routeKey == routeKey }) else {
            throw FakeGatewayError(description: "no route \(routeKey) is registered")
        }
        return route.path
    }

    /// The route API Gateway would select for `body`: the route whose key equals the body's
    /// route selection value (stringified), else `$default`.
    public func selectRoute(for body: ByteBuffer) -> RouteKey {
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
            let value = object[routeSelectionKey]
        else { return .default }
        let key = (value as? String) ?? "\(value)"
        return routes.first { $0.routeKey.rawValue == key && !$0.routeKey.isReserved }?.routeKey ?? .default
    }

    func addGatewayHeaders(to fields: inout HTTPFields, connectionID: ConnectionID) {
        fields[.connectionID] = connectionID.rawValue
        fields[.apiGatewayAPIID] = apiID.rawValue
        fields[.amznTraceID] = Self.makeTraceID()
        fields[.xForwardedFor] = sourceIP
        fields[HTTPField.Name("X-Forwarded-Proto")!] = "https"
        fields[HTTPField.Name("X-Forwarded-Port")!] = "443"
        if let secret { fields[secretHeader] = secret }
    }

    /// A fresh id in API Gateway's shape: 16 characters of URL-safe base64 ending in `=`.
    public static func makeConnectionID() -> ConnectionID {
        let bytes = (0..<11).map { _ in UInt8.random(in: 0...255) }
        let text = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        return try! ConnectionID(text)
    }

    /// `Root=1-{epoch hex}-{24 hex}`, the X-Ray header API Gateway adds.
    static func makeTraceID() -> String {
        let epoch = String(UInt32(Date().timeIntervalSince1970), radix: 16)
        let random = (0..<12).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        return "Root=1-\(epoch)-\(random)"
    }

    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// One client connection held by a ``FakeAPIGateway``.
public struct FakeConnection: Sendable {
    public let id: ConnectionID
    public let gateway: FakeAPIGateway
    /// The backend's answer to the `$connect`.
    public let connectResponse: GatewayResponse

    /// A connection with this id, e.g. one the backend never saw connect.
    public init(id: ConnectionID, gateway: FakeAPIGateway, connectResponse: GatewayResponse) {
        self.id = id
        self.gateway = gateway
        self.connectResponse = connectResponse
    }

    /// Whether API Gateway would have completed the handshake (the `$connect` answer was 2xx).
    public var isAccepted: Bool { connectResponse.status.kind == .successful }

    /// A message, routed by the route selection key; returns the backend's answer.
    @discardableResult
    public func send(_ text: String) async throws -> GatewayResponse {
        try await send(ByteBuffer(string: text))
    }

    /// A message of JSON-encoded `value`.
    @discardableResult
    public func send(json value: some Encodable) async throws -> GatewayResponse {
        try await send(ByteBuffer(data: try JSONEncoder().encode(value)))
    }

    /// A message of raw bytes (API Gateway passes text frames through byte for byte).
    @discardableResult
    public func send(_ body: ByteBuffer) async throws -> GatewayResponse {
        try await gateway.transport.send(request(for: body))
    }

    /// The integration request API Gateway would send for a message of `body`.
    public func request(for body: ByteBuffer) throws -> GatewayRequest {
        var fields = HTTPFields()
        fields[.userAgent] = "AmazonAPIGateway_\(gateway.apiID)"
        gateway.addGatewayHeaders(to: &fields, connectionID: id)
        return GatewayRequest(method: .post, path: try gateway.path(for: gateway.selectRoute(for: body)), headerFields: fields, body: body)
    }

    /// The `$disconnect` API Gateway sends after the connection closed.
    @discardableResult
    public func disconnect() async throws -> GatewayResponse {
        var fields = HTTPFields()
        fields[.userAgent] = "AmazonAPIGateway_\(gateway.apiID)"
        gateway.addGatewayHeaders(to: &fields, connectionID: id)
        return try await gateway.transport.send(
            GatewayRequest(method: .post, path: try gateway.path(for: .disconnect), headerFields: fields))
    }
}

public struct FakeGatewayError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Delivers fake API Gateway requests straight to a ``GatewayDispatcher``, with no HTTP server:
/// the core's own tests, and apps on another framework, use it.
public struct DispatcherTransport: GatewayTransport {
    public let dispatcher: GatewayDispatcher

    public init(dispatcher: GatewayDispatcher) { self.dispatcher = dispatcher }

    public func send(_ request: GatewayRequest) async throws -> GatewayResponse {
        guard let endpoint = dispatcher.endpoint(at: request.path) else {
            return GatewayResponse(status: .notFound)
        }
        return await dispatcher.handle(request, at: endpoint)
    }
}
