import AsyncHTTPClient
import Foundation
import NIOCore
import PeerSupport
import Synchronization
import Testing

@testable import APIGatewayAWS

@Suite struct ManagementClientTests {
    let credentials = StaticCredentialProvider(Credential(accessKeyID: "AKIATEST", secretAccessKey: "secret", sessionToken: "tok"))
    /// Attempts are counted, never timed: the deadline is far beyond any loaded machine's answer
    /// (at 5 s, two loopback answers under CI's load once took it all and the third attempt never came).
    let fastRetry = ManagementClient.RetryPolicy(
        maxAttempts: 4, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5), deadline: .seconds(60))

    func client(_ http: HTTPClient = .shared) -> ManagementClient {
        ManagementClient(httpClient: http, credentials: credentials, timeout: .seconds(5), retry: fastRetry)
    }

    @Test func endpointForms() throws {
        let aws = ManagementEndpoint.aws(apiID: "abc123", region: "eu-west-1", stage: "prod")
        #expect(aws.origin == "https://abc123.execute-api.eu-west-1.amazonaws.com" && aws.basePath == "/prod")
        #expect(aws.path(forConnection: "L0SM9cOFvHcCIhw=") == "/prod/@connections/L0SM9cOFvHcCIhw%3D")
        let custom = try ManagementEndpoint(url: "https://WS.example.com/chat/v1/")
        #expect(custom.hostHeader == "ws.example.com" && custom.path(forConnection: "a-b_c") == "/chat/v1/@connections/a-b_c")
        let moto = try ManagementEndpoint(url: "http://127.0.0.1:5000")
        #expect(moto.hostHeader == "127.0.0.1:5000" && moto.path(forConnection: "x") == "/@connections/x")
        #expect(try ManagementEndpoint(url: "https://h:443/s").hostHeader == "h", "default ports are not part of Host")
        #expect(ManagementEndpoint.aws(apiID: "a", region: "cn-north-1", stage: "s").host == "a.execute-api.cn-north-1.amazonaws.com.cn")
        // Stages and regions API Gateway would refuse trapped in a `try!` (`CHAT_STAGE='a#b'`).
        for (region, stage) in [("eu-west-1", "a#b"), ("eu-west-1", "a?b"), ("u@h:1", "s"), ("", "")] {
            _ = ManagementEndpoint.aws(apiID: "a", region: region, stage: stage)
        }
        #expect(AWSPartition(region: "us-gov-west-1").name == "aws-us-gov" && AWSPartition(region: "cn-north-1").name == "aws-cn")
        #expect(["eu-west-1", "us-gov-east-1"].allSatisfy(AWSPartition.isValidRegion))
        #expect(!["", "EU-west-1", "u@h:1", "eu west", "-eu"].contains(where: AWSPartition.isValidRegion))
        for bad in ["ftp://h", "h/path", "https://", "https://h:0", "https://u@h/x", "https://h/x?y=1"] {
            #expect(throws: ManagementEndpointError.self, "\(bad)") { try ManagementEndpoint(url: bad) }
        }
    }

    @Test func postSendsASignedRequestToTheEncodedPath() async throws {
        let server = try await LoopbackServer { _ in .init(status: 200) }
        let endpoint = try ManagementEndpoint(url: server.url + "/dev")
        try await client().post(ByteBuffer(string: "hello"), to: "L0SM9cOFvHcCIhw=", endpoint: endpoint, region: "us-east-1")
        let request = try #require(server.requests.first)
        #expect(request.method == "POST" && request.uri == "/dev/@connections/L0SM9cOFvHcCIhw%3D")
        #expect(request.body == Array("hello".utf8))
        #expect(request.header("Host") == "127.0.0.1:\(server.port)")
        #expect(request.header("X-Amz-Security-Token") == "tok" && request.header("X-Amz-Date") != nil)
        let authorization = try #require(request.header("Authorization"))
        #expect(
            authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIATEST/")
                && authorization.contains("/us-east-1/execute-api/aws4_request"))
        #expect(authorization.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"))
        #expect(!authorization.contains("secret"))
        try await server.close()
    }

    /// Every error form `@connections` (or a proxy in front of it) answers with.
    @Test(arguments: [
        (410, [("x-amzn-ErrorType", "GoneException")], "", AWSError.Code.gone),
        (410, [("x-amzn-ErrorType", "GoneException:http://internal.amazon.com/coral/com.amazon.coral.service/")], "", .gone),
        (403, [("x-amzn-ErrorType", "ForbiddenException")], #"{"message":"Forbidden"}"#, .forbidden),
        (413, [("x-amzn-ErrorType", "PayloadTooLargeException")], #"{"message":"Payload too large"}"#, .payloadTooLarge),
        (400, [], #"{"__type":"com.amazonaws#BadRequestException","message":"Invalid connectionId"}"#, .badRequest),
        (403, [], #"{"code":"ForbiddenException"}"#, .forbidden),
        (404, [], "not json", AWSError.Code("404")),
    ])
    func errorsAreTyped(_ status: Int, _ headers: [(String, String)], _ body: String, _ code: AWSError.Code) async throws {
        let server = try await LoopbackServer { _ in .init(status: status, headers: headers + [("x-amzn-RequestId", "req-1")], body: body) }
        let error = await #expect(throws: AWSError.self) {
            try await client().post(
                ByteBuffer(string: "x"), to: "abc", endpoint: try ManagementEndpoint(url: server.url), region: "us-east-1")
        }
        #expect(error?.code == code && error?.status == status && error?.requestID == "req-1")
        #expect(server.requests.count == 1, "client errors are not retried")
        try await server.close()
    }

    @Test func throttlingAndServerErrorsAreRetried() async throws {
        let attempts = Atomic<Int>(0)
        let server = try await LoopbackServer { _ in
            switch attempts.wrappingAdd(1, ordering: .relaxed).newValue {
            case 1: .init(status: 429, headers: [("x-amzn-ErrorType", "LimitExceededException")])
            case 2: .init(status: 503)
            default: .init(status: 200)
            }
        }
        try await client().post(ByteBuffer(string: "x"), to: "abc", endpoint: try ManagementEndpoint(url: server.url), region: "us-east-1")
        #expect(server.requests.count == 3)
        // Retries give up after maxAttempts.
        let always = try await LoopbackServer { _ in .init(status: 500) }
        let error = await #expect(throws: AWSError.self) {
            try await client().post(
                ByteBuffer(string: "x"), to: "abc", endpoint: try ManagementEndpoint(url: always.url), region: "us-east-1")
        }
        #expect(error?.status == 500 && always.requests.count == 4)
        try await server.close()
        try await always.close()
    }

    @Test func connectionErrorsAreRetriedThenThrown() async throws {
        let server = try await LoopbackServer { _ in .init(status: 200) }
        let url = server.url
        try await server.close()  // nothing listens there now
        // AsyncHTTPClient keeps trying to connect until an attempt's timeout; then we retry, then throw.
        let impatient = ManagementClient(httpClient: .shared, credentials: credentials, timeout: .milliseconds(200), retry: fastRetry)
        let error = await #expect(throws: (any Error).self) {
            try await impatient.post(ByteBuffer(string: "x"), to: "abc", endpoint: try ManagementEndpoint(url: url), region: "us-east-1")
        }
        #expect(!(error is AWSError), "a transport error, not an answer: \(String(describing: error))")
    }

    @Test func getAndDelete() async throws {
        let server = try await LoopbackServer { request in
            switch request.method {
            case "GET":
                .init(
                    body:
                        #"{"connectedAt":"2026-11-29T10:00:00.000Z","identity":{"sourceIp":"203.0.113.7"},"lastActiveAt":"2026-11-29T10:05:00Z"}"#
                )
            default: .init(status: 204)
            }
        }
        let endpoint = try ManagementEndpoint(url: server.url + "/dev")
        let info = try await client().connection("abc=", endpoint: endpoint, region: "us-east-1")
        #expect(info.sourceIP == "203.0.113.7" && info.userAgent == nil)
        #expect(info.lastActiveAt.timeIntervalSince(info.connectedAt) == 300)
        try await client().deleteConnection("abc=", endpoint: endpoint, region: "us-east-1")
        #expect(server.requests.map { "\($0.method) \($0.uri)" } == ["GET /dev/@connections/abc%3D", "DELETE /dev/@connections/abc%3D"])
        try await server.close()
    }

    @Test func againstMoto() async throws {
        guard let moto = try await MotoServer.start() else { return }
        defer { moto.stop() }
        let http = HTTPClient.shared
        _ = try await http.execute(HTTPClientRequest.post(moto.url + "/moto-api/recorder/start-recording"), timeout: .seconds(5))
        let endpoint = try ManagementEndpoint(url: moto.url)  // moto serves @connections at its root
        try await client().post(ByteBuffer(string: "from-swift"), to: "swift-conn=", endpoint: endpoint, region: "us-east-1")
        let info = try await client().connection("swift-conn=", endpoint: endpoint, region: "us-east-1")  // epoch numbers here
        #expect(info.sourceIP != nil)
        try await client().deleteConnection("swift-conn=", endpoint: endpoint, region: "us-east-1")
        _ = try await http.execute(HTTPClientRequest.post(moto.url + "/moto-api/recorder/stop-recording"), timeout: .seconds(5))
        let recording = try await http.execute(
            HTTPClientRequest(url: moto.url + "/moto-api/recorder/download-recording"), timeout: .seconds(5))
        let lines = String(buffer: try await recording.body.collect(upTo: 1 << 20)).split(separator: "\n")
        let posts = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.filter {
            ($0["method"] as? String) == "POST" && (($0["url"] as? String) ?? "").contains("/@connections/")
        }
        let post = try #require(posts.first)
        let body =
            (post["body_encoded"] as? Bool == true)
            ? String(decoding: Data(base64Encoded: post["body"] as? String ?? "") ?? Data(), as: UTF8.self)
            : (post["body"] as? String ?? "")
        #expect(body == "from-swift")
        let headers = post["headers"] as? [String: String] ?? [:]
        #expect(headers.first { $0.key.lowercased() == "authorization" }?.value.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIATEST/") == true)
    }
}

extension HTTPClientRequest {
    static func post(_ url: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        return request
    }
}
