public import HTTPTypes
public import NIOCore

/// The backend's answer to one API Gateway integration request.
///
/// On `$connect` a 2xx status completes the client's handshake and any other status rejects it
/// with that status. On a two-way route the body becomes the frame sent back to the client.
public struct GatewayResponse: Sendable {
    public var status: HTTPResponse.Status
    public var headerFields: HTTPFields
    public var body: ByteBuffer

    public init(status: HTTPResponse.Status = .ok, headerFields: HTTPFields = [:], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headerFields = headerFields
        self.body = body
    }

    /// An empty `200 OK`.
    public static var ok: GatewayResponse { GatewayResponse() }

    /// The answer to a refused event: its status and a JSON body `{"message": reason}`.
    public init(refusal: Refusal) {
        var body = ByteBuffer()
        body.writeString(#"{"message":"#)
        body.writeJSONString(refusal.reason)
        body.writeString("}")
        self.init(status: refusal.status, headerFields: [.contentType: "application/json"], body: body)
    }
}

extension ByteBuffer {
    /// Writes `text` as a JSON string literal, quotes included.
    mutating func writeJSONString(_ text: String) {
        writeInteger(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": writeString(#"\""#)
            case "\\": writeString(#"\\"#)
            case "\n": writeString(#"\n"#)
            case "\r": writeString(#"\r"#)
            case "\t": writeString(#"\t"#)
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                writeString("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default:
                writeString(String(scalar))
            }
        }
        writeInteger(UInt8(ascii: "\""))
    }
}
