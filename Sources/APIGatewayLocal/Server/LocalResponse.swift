import Foundation
import NIOCore
import NIOHTTP1

/// An HTTP answer from the gateway.
struct LocalResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders = HTTPHeaders()
    var body: ByteBuffer = ByteBuffer()

    /// `value` encoded as the JSON body.
    static func json(_ status: HTTPResponseStatus, _ value: some Encodable) -> LocalResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return LocalResponse(status: status, headers: headers, body: ByteBuffer(bytes: WireJSON.encode(value)))
    }

    /// An AWS error: `x-amzn-ErrorType` always, a JSON `{"message": …}` when there is one.
    static func awsError(_ status: HTTPResponseStatus, _ type: String, _ message: String?) -> LocalResponse {
        var response = message.map { json(status, ErrorBody(message: $0)) } ?? LocalResponse(status: status)
        response.headers.add(name: "x-amzn-ErrorType", value: type)
        response.headers.add(name: "x-amzn-RequestId", value: makeRequestID())
        return response
    }

    /// A body past ``LocalGatewayConfiguration/maximumRequestBodySize``.
    static func tooLarge(limit: Int) -> LocalResponse {
        awsError(.payloadTooLarge, "PayloadTooLargeException", "Request must be smaller than \(limit) bytes")
    }

    struct ErrorBody: Codable, Sendable {
        var message: String
    }
}

/// The JSON encoding and decoding of every wire shape the gateway speaks: ISO-8601 dates, keys
/// sorted so answers are stable.
enum WireJSON {
    static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        // Every shape here is plain structs of strings, numbers and dates: encoding cannot fail.
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: data)
    }
}

/// API Gateway's error frames, byte for byte: a space after the first colon only.
enum ErrorFrame: String {
    case forbidden = "Forbidden"
    case internalServerError = "Internal server error"
    case timedOut = "Endpoint request timed out"
    /// A message past its route's throttle, or the account's.
    case tooManyRequests = "Too Many Requests"

    func text(connectionId: String, requestId: String) -> String {
        #"{"message": \#(Self.quoted(rawValue)), "connectionId":\#(Self.quoted(connectionId)), "requestId":\#(Self.quoted(requestId))}"#
    }

    /// A JSON string literal, encoded rather than interpolated.
    private static func quoted(_ value: String) -> String { String(decoding: WireJSON.encode(value), as: UTF8.self) }
}
