public import APIGatewayWebSockets
public import AsyncHTTPClient
import HTTPTypes
public import NIOCore
import NIOHTTP1

/// Delivers fake API Gateway requests over HTTP to a running server, e.g. an app bound to port 0
/// on 127.0.0.1.
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
