import APIGatewayAWS
import Foundation
public import HTTPTypes
public import NIOCore

/// One HTTP request from API Gateway to the backend, as the core sees it.
///
/// Adapters build it from their framework's request type; the core never sees Vapor or NIO
/// HTTP/1 types.
///
/// ```swift
/// let request = GatewayRequest(
///     method: .post, path: "/ws/default",
///     headerFields: [.init("connectionId")!: "L0SM9cOFvHcCIhw="],
///     body: ByteBuffer(string: #"{"action":"sendmessage"}"#)
/// )
/// ```
public struct GatewayRequest: Sendable {
    /// The HTTP method API Gateway used (`POST` for every `HTTP_PROXY` integration).
    public var method: HTTPRequest.Method
    /// The path, without the query string.
    public var path: String
    /// The raw query string, without `?`; `nil` when there was none.
    public var query: String?
    /// The header fields as received.
    public var headerFields: HTTPFields
    /// The whole body.
    public var body: ByteBuffer
    /// The user the adapter's authentication found (on `$connect`, from the forwarded cookie).
    public var authenticatedUser: AuthenticatedUser?

    public init(
        method: HTTPRequest.Method = .post,
        path: String,
        query: String? = nil,
        headerFields: HTTPFields = [:],
        body: ByteBuffer = ByteBuffer(),
        authenticatedUser: AuthenticatedUser? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headerFields = headerFields
        self.body = body
        self.authenticatedUser = authenticatedUser
    }

    /// The first value of the query parameter `name`, percent-decoded; `nil` when absent.
    ///
    /// `+` is read as a space, as browsers and API Gateway's clients send it.
    public func queryParameter(_ name: String) -> String? {
        guard let query else { return nil }
        return queryValue(name, in: query[...], plusAsSpace: true)
    }

    /// The client's address as API Gateway reports it: the last address of `X-Forwarded-For`.
    /// API Gateway sends the client's IP there; taking the last entry means a value a client
    /// puts before it cannot choose the address (whether API Gateway appends to a client-sent
    /// header or replaces it is not documented; either way the last entry is its own).
    public var clientAddress: String? { clientAddress(behindProxies: 0) }

    /// The client's address when `proxies` trusted proxies between API Gateway and this backend
    /// (a load balancer, nginx with `$proxy_add_x_forwarded_for`) each appended their peer: the
    /// entry that many places before the last. `nil` when the header has fewer entries.
    public func clientAddress(behindProxies proxies: Int) -> String? {
        guard let forwarded = headerFields[.xForwardedFor] else { return nil }  // every hop, joined
        let entries = forwarded.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let index = entries.count - 1 - max(0, proxies)
        guard entries.indices.contains(index), !entries[index].isEmpty else { return nil }
        return entries[index]
    }
}

extension HTTPField.Name {
    /// `connectionId`: the header API Gateway's integration maps from `context.connectionId`.
    public static let connectionID = HTTPField.Name("connectionId")!
    /// `X-Amzn-Apigateway-Api-Id`: the API that sent the event.
    public static let apiGatewayAPIID = HTTPField.Name("X-Amzn-Apigateway-Api-Id")!
    /// `X-Amzn-Trace-Id`: the X-Ray trace header API Gateway adds.
    public static let amznTraceID = HTTPField.Name("X-Amzn-Trace-Id")!
    /// `X-Ws-Gateway-Secret`: the shared secret the integration sends as a static header.
    public static let gatewaySecret = HTTPField.Name("X-Ws-Gateway-Secret")!
    /// `X-Forwarded-For`: the client address API Gateway saw.
    public static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}

extension HTTPFields {
    /// The first value of `name`, as sent. The subscript joins every value of a name into a new
    /// string on each read; the guards read one value each of a handful of headers per event.
    public func first(_ name: HTTPField.Name) -> String? {
        for field in self where field.name == name { return field.value }
        return nil
    }
}
