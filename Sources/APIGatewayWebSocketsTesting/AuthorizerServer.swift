import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A Lambda `REQUEST` authorizer written in Swift, served over HTTP on a loopback port, so the
/// local gateway (`apigateway-local --authorizer-function ARN=URL`, or an authorizer whose
/// `authorizerUri` is this ``url``) can call it as API Gateway calls the Lambda function.
///
/// ```swift
/// let authorizer = try await AuthorizerServer { request in
///     guard let token = request.queryParameter("token"), let user = users[token] else { return .unauthorized }
///     return .allow(principalID: user.id, context: ["tenant": user.tenant])
/// }
/// ```
public final class AuthorizerServer: Sendable {
    /// The Lambda `REQUEST` authorizer event of a WebSocket `$connect`.
    public struct Request: Sendable, Decodable {
        public struct Context: Sendable, Decodable {
            public struct Identity: Sendable, Decodable {
                public var sourceIp: String?
                public var userAgent: String?
            }
            public var routeKey: String?
            public var eventType: String?
            public var connectionId: String?
            public var apiId: String?
            public var stage: String?
            public var requestId: String?
            public var domainName: String?
            public var identity: Identity?
        }
        public var type: String?
        /// `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/$connect`.
        public var methodArn: String
        public var headers: [String: String]?
        public var queryStringParameters: [String: String]?
        public var stageVariables: [String: String]?
        public var requestContext: Context?

        /// The client's header `name`, whatever its case.
        public func header(_ name: String) -> String? {
            headers?.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
        }

        /// The client's query parameter `name`.
        public func queryParameter(_ name: String) -> String? { queryStringParameters?[name] }
    }

    /// What the authorizer decides.
    public enum Answer: Sendable {
        /// An IAM policy allowing `execute-api:Invoke` on the `methodArn`, with the principal and
        /// the context every later event of the connection can map.
        case allow(principalID: String, context: [String: String] = [:], usageIdentifierKey: String? = nil)
        /// A policy denying it: the client hears 403.
        case deny(principalID: String)
        /// A Lambda authorizer's `Unauthorized` error: the client hears 401.
        case unauthorized
    }

    private let channel: any Channel
    private let counter: Counter
    public let port: Int

    /// Where the gateway calls it.
    public var url: String { "http://127.0.0.1:\(port)/authorize" }
    /// How many times it has been called.
    public var calls: Int { counter.value.withLock { $0 } }

    public init(_ decide: @escaping @Sendable (Request) async -> Answer) async throws {
        let counter = Counter()
        self.counter = counter
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(decide: decide, counter: counter))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    public func close() async throws { try await channel.close() }

    /// The Lambda authorizer answer for `answer` on `methodArn`: status and body.
    static func response(_ answer: Answer, methodArn: String) -> (HTTPResponseStatus, Data) {
        func policy(_ effect: String) -> [String: Any] {
            ["Version": "2012-10-17", "Statement": [["Action": "execute-api:Invoke", "Effect": effect, "Resource": methodArn]]]
        }
        let object: [String: Any]
        switch answer {
        case .allow(let principal, let context, let key):
            var allowed: [String: Any] = ["principalId": principal, "policyDocument": policy("Allow"), "context": context]
            if let key { allowed["usageIdentifierKey"] = key }
            object = allowed
        case .deny(let principal):
            object = ["principalId": principal, "policyDocument": policy("Deny")]
        case .unauthorized:
            return (.unauthorized, Data(#"{"message":"Unauthorized"}"#.utf8))
        }
        return (.ok, (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8))
    }

    private final class Counter: Sendable {
        let value = Mutex(0)
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let decide: @Sendable (Request) async -> Answer
        let counter: Counter
        private var body = ByteBuffer()
        private var keepAlive = true

        init(decide: @escaping @Sendable (Request) async -> Answer, counter: Counter) {
            self.decide = decide
            self.counter = counter
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                body.clear()
                keepAlive = head.isKeepAlive
            case .body(var chunk):
                body.writeBuffer(&chunk)
            case .end:
                counter.value.withLock { $0 += 1 }
                let bytes = Data(body.readableBytesView)
                let decide = self.decide
                let channel = context.channel
                let keepAlive = self.keepAlive
                let promise = channel.eventLoop.makePromise(of: (HTTPResponseStatus, Data).self)
                promise.completeWithTask {
                    guard let request = try? JSONDecoder().decode(Request.self, from: bytes) else {
                        return (.badRequest, Data(#"{"message":"not an authorizer event"}"#.utf8))
                    }
                    return AuthorizerServer.response(await decide(request), methodArn: request.methodArn)
                }
                promise.futureResult.whenSuccess { status, payload in
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: "application/json")
                    headers.add(name: "Content-Length", value: "\(payload.count)")
                    if !keepAlive { headers.add(name: "Connection", value: "close") }
                    channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)), promise: nil)
                    channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: payload))), promise: nil)
                    channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in
                        if !keepAlive { channel.close(promise: nil) }
                    }
                }
            }
        }
    }
}
