import APIGatewayAWS
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The API Gateway v2 REST endpoints provisioning needs, in botocore's wire format, read and
/// answered through the one Codable model of ``APIGatewayV2``: APIs, integrations, routes, route
/// responses, stages, deployments, domain names, API mappings and tags, with create, get, list
/// (paginated by `maxResults`/`nextToken`), update and delete. Requests are SigV4-signed for the
/// service `apigateway`. Every change is one step on the gateway's state, so parallel calls (as
/// Terraform makes them) never lose each other's items.
extension LocalGateway {
    func controlPlane(head: HTTPRequestHead, body: ByteBuffer, parts: [String]) async -> LocalResponse {
        if configuration.verifiesSignatures,
            let problem = verifier.problem(
                method: head.method.rawValue, uri: head.uri, headers: head.headers, body: body.readableBytesView, service: "apigateway")
        {
            logger.debug("control-plane signature refused", metadata: ["apigw.reason": "\(problem)"])
            return .awsError(.forbidden, "ForbiddenException", problem.message)
        }
        do {
            let request = try ControlPlaneRequest(
                head: head, body: body, parts: parts,
                endpoint: "ws://\(head.headers.first(name: "Host") ?? "\(configuration.host):\(port ?? configuration.port)")")
            switch request.parts.first {
            case "apis": return try apis(request)
            case "domainnames": return try domainNames(request)
            case "tags": return try tags(request)
            case "apikeys": return try apiKeys(request)
            case "usageplans": return try usagePlans(request)
            default: throw ControlPlaneError.notFound("resource")
            }
        } catch let error as ControlPlaneError {
            return .awsError(error.status, error.type, error.message)
        } catch let error as LocalGatewayError {
            logger.error("control-plane change not saved", metadata: ["apigw.error": "\(error)"])
            return .awsError(.internalServerError, "InternalServerErrorException", "The change could not be saved: \(error)")
        } catch {
            logger.error("control-plane call failed", metadata: ["apigw.error": "\(error)"])
            return .awsError(.internalServerError, "InternalServerErrorException", "\(error)")
        }
    }

    /// Changes the API `id` in one step on the state; `body` sees the API as it is now.
    func updateAPI<T>(_ id: String, _ body: (inout LocalAPI) throws -> T) throws -> T {
        try state.update { held in
            guard var api = held.apis[id] else { throw ControlPlaneError.notFound("API") }
            let result = try body(&api)
            held.apis[id] = api
            return result
        }
    }

    /// The API `id` as it is now.
    func existingAPI(_ id: String) throws -> LocalAPI {
        guard let api = api(id) else { throw ControlPlaneError.notFound("API") }
        return api
    }

    static func makeID(length: Int = 7) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        return String(decoding: (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] }, as: UTF8.self)
    }

    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }
}

/// An AWS error answer: status, `x-amzn-ErrorType`, message.
struct ControlPlaneError: Error {
    let status: HTTPResponseStatus
    let type: String
    let message: String

    static func notFound(_ what: String) -> ControlPlaneError {
        .init(status: .notFound, type: "NotFoundException", message: "Invalid \(what) identifier specified")
    }
    static func badRequest(_ message: String) -> ControlPlaneError {
        .init(status: .badRequest, type: "BadRequestException", message: message)
    }
    static func conflict(_ message: String) -> ControlPlaneError {
        .init(status: .conflict, type: "ConflictException", message: message)
    }
    static func missing(_ segment: String) -> ControlPlaneError {
        badRequest("The request is missing the path parameter \(segment)")
    }
    static let methodNotAllowed = ControlPlaneError(
        status: .notFound, type: "NotFoundException", message: "No operation matches this method and path")
}

/// One control-plane call: its method, decoded path segments after `/v2`, query and body.
struct ControlPlaneRequest {
    let method: HTTPMethod
    let parts: [String]
    let query: [(name: String, value: String)]
    let body: ByteBuffer
    /// `ws://{host}`, the start of every API's `apiEndpoint`.
    let endpoint: String

    init(head: HTTPRequestHead, body: ByteBuffer, parts: [String], endpoint: String) throws {
        self.method = head.method
        self.parts = try parts.map { segment in
            guard let decoded = strictPercentDecode(segment) else { throw ControlPlaneError.badRequest("Invalid path segment \(segment)") }
            return decoded
        }
        self.query = queryItems((splitURI(head.uri).query ?? "")[...]).map { item in
            (percentDecode(item.name), item.value.map { percentDecode($0, plusAsSpace: true) } ?? "")
        }
        self.body = body
        self.endpoint = endpoint
    }

    /// The path segment at `index`, or a 400 naming it.
    func segment(_ index: Int, named name: String) throws -> String {
        guard parts.count > index, !parts[index].isEmpty else { throw ControlPlaneError.missing(name) }
        return parts[index]
    }

    /// The body as `T`; an empty body reads as `{}`.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let data = body.readableBytes == 0 ? Data("{}".utf8) : Data(body.readableBytesView)
        do {
            return try WireJSON.decode(type, from: data)
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ControlPlaneError.badRequest("Invalid request body: \(field.isEmpty ? "the body" : field) has the wrong type")
        } catch {
            throw ControlPlaneError.badRequest("Invalid request body: not a JSON object")
        }
    }

    func values(_ name: String) -> [String] { query.filter { $0.name == name }.map(\.value) }

    /// `maxResults` at a time from the offset in `nextToken`, AWS's limits checked.
    func page<Item: Codable & Sendable>(_ items: [Item]) throws -> LocalResponse {
        var size = 100
        if let text = values("maxResults").last {
            guard let number = Int(text), (1...500).contains(number) else {
                throw ControlPlaneError.badRequest("maxResults must be a number from 1 to 500, not \(text)")
            }
            size = number
        }
        var start = 0
        if let token = values("nextToken").last {
            guard let offset = Int(token), (0...items.count).contains(offset) else {
                throw ControlPlaneError.badRequest("Invalid nextToken \(token)")
            }
            start = offset
        }
        let slice = Array(items[start..<min(items.count, start + size)])
        let next = start + slice.count < items.count ? String(start + slice.count) : nil
        return .json(.ok, APIGatewayV2.Page(items: slice, nextToken: next))
    }
}

extension Optional {
    /// The value, or `error` thrown.
    func orThrow(_ error: @autoclosure () -> some Error) throws -> Wrapped {
        guard let self else { throw error() }
        return self
    }
}
