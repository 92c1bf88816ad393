import AsyncHTTPClient
import NIOCore
import NIOHTTP1

extension HTTPClient {
    /// Sends a signed request and returns the body of a 2xx answer, or throws the ``AWSError``
    /// any other answer carries. Shared by the `@connections` and control-plane clients.
    func executeAWS(
        _ method: HTTPMethod, url: String, signed: SigV4Request, body: ByteBuffer?, timeout: TimeAmount, maximumAnswer: Int
    ) async throws -> ByteBuffer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for header in signed.headers { request.headers.add(name: header.name, value: header.value) }
        if let body { request.body = .bytes(body) }
        let response = try await execute(request, timeout: timeout)
        let answer = try await response.body.collect(upTo: maximumAnswer)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw AWSError.parse(
                status: Int(response.status.code), errorTypeHeader: response.headers.first(name: "x-amzn-ErrorType"),
                requestID: response.headers.first(name: "x-amzn-RequestId"), body: Array(answer.readableBytesView)
            )
        }
        return answer
    }
}
