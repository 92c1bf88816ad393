public import APIGatewayWebSockets
public import APIGatewayWebSocketsTesting
public import AsyncHTTPClient
import HTTPTypes
import NIOCore
import NIOHTTP1
public import Vapor
import VaporAPIGatewayWebSockets

/// Delivers fake API Gateway requests to a Vapor app in this process, through its router and
/// middleware but without a socket.
public struct InProcessTransport: GatewayTransport {
    public let app: Application

    public init(app: Application) { self.app = app }

    public func send(_ request: GatewayRequest) async throws -> GatewayResponse {
        var headers = HTTPHeaders()
        for field in request.headerFields { headers.add(name: field.name.rawName, value: field.value) }
        headers.replaceOrAdd(name: .contentLength, value: "\(request.body.readableBytes)")
        let uri = request.query.map { "\(request.path)?\($0)" } ?? request.path
        let vaporRequest = Request(
            application: app,
            method: NIOHTTP1.HTTPMethod(rawValue: request.method.rawValue),
            url: URI(string: uri),
            headers: headers,
            collectedBody: request.body,
            remoteAddress: try? SocketAddress(ipAddress: "127.0.0.1", port: 0),
            on: app.eventLoopGroup.any()
        )
        let response = try await app.responder.respond(to: vaporRequest).get()
        // A streamed body (a page written while it runs) is collected whole, as a client reads it.
        let body = try await response.body.collect(on: vaporRequest.eventLoop).get() ?? ByteBuffer()
        var answer = GatewayResponse(response)
        answer.body = body
        return answer
    }
}

/// Delivers fake API Gateway requests over HTTP to a running server, e.g. a Vapor app bound to
/// port 0 on 127.0.0.1.
public struct LiveTransport: GatewayTransport {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    public let baseURL: String
    public let client: HTTPClient
    public let timeout: TimeAmount

    public init(baseURL: String, client: HTTPClient = .shared, timeout: TimeAmount = .seconds(10)) {
        self.baseURL = baseURL
        self.client = client
        self.timeout = timeout
    }

    public func send(_ request: GatewayRequest) async throws -> GatewayResponse {
        var outbound = HTTPClientRequest(url: baseURL + request.path + (request.query.map { "?\($0)" } ?? ""))
        outbound.method = NIOHTTP1.HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headerFields { outbound.headers.add(name: field.name.rawName, value: field.value) }
        outbound.body = .bytes(request.body)
        let response = try await client.execute(outbound, timeout: timeout)
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        return GatewayResponse(status: HTTPResponse.Status(code: Int(response.status.code)), headerFields: fields, body: body)
    }
}

extension GatewayResponse {
    /// The core's view of a Vapor response.
    public init(_ response: Response) {
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        self.init(
            status: HTTPResponse.Status(code: Int(response.status.code)),
            headerFields: fields,
            body: response.body.buffer ?? ByteBuffer()
        )
    }
}

extension FakeAPIGateway {
    /// A fake gateway for `app`'s registered routes, delivering in process.
    public init(app: Application, apiID: APIID, stage: String = "test", secret: String? = nil) throws {
        guard let gateway = app.webSocketGateway else {
            throw FakeGatewayError(description: "the app has no WebSocketGateway; create one before making a fake API Gateway")
        }
        self.init(
            apiID: apiID, stage: stage, routes: gateway.registeredRoutes, secret: secret,
            secretHeader: gateway.dispatcher.configuration.secretHeader, transport: InProcessTransport(app: app)
        )
    }
}
