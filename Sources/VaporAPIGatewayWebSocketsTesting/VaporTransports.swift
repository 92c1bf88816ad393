public import APIGatewayWebSockets
public import APIGatewayWebSocketsTesting
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
