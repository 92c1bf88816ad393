import APIGatewayAWS
import Foundation
import NIOCore
import NIOFoundationCompat

/// The `handler`, `action` and `id` keys of a JSON object body, when they are strings (an `id`
/// of at most 128 characters: a longer one is no id).
///
/// Read by a scanner that walks the body once and decodes only those two values: the handler
/// then decodes the body, so each message is decoded once. A body that is not strict JSON falls
/// back to `JSONDecoder`'s reading of it (it is more lenient), so selection is what it was.
struct HandlerSelector: Error {
    var handler: String?
    var action: String?
    var id: String?

    init(_ body: ByteBuffer) {
        var scanner = JSONScanner(body.readableBytesView)
        if let keys = scanner.topLevelStrings(["handler", "action", "id"]) {
            handler = keys["handler"]
            action = keys["action"]
            id = keys["id"].flatMap { $0.count <= 128 ? $0 : nil }
        } else if body.readableBytesView.first(where: { !JSONScanner.isWhitespace($0) }) == UInt8(ascii: "{"),
            let decoded = try? JSONDecoder().decode(Lenient.self, from: body)
        {
            // Not strict JSON (a trailing comma, a leading zero): Foundation's decoder, which the
            // handler decodes with too, may still read it, so it decides, as it always did.
            handler = decoded.handler
            action = decoded.action
            id = decoded.id.flatMap { $0.count <= 128 ? $0 : nil }
        }
    }

    /// The three keys as `JSONDecoder` reads them; non-strings name nothing.
    private struct Lenient: Decodable {
        var handler: String?
        var action: String?
        var id: String?
        enum Keys: String, CodingKey { case handler, action, id }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            handler = try? container.decodeIfPresent(String.self, forKey: .handler)
            action = try? container.decodeIfPresent(String.self, forKey: .action)
            id = try? container.decodeIfPresent(String.self, forKey: .id)
        }
    }
}
