import APIGatewayAWS
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

extension LocalGateway {
    /// Routes a plain HTTP request: `/{apiId}/{stage}/@connections/{id}` (or `%40connections`),
    /// the control plane under `/v2/`, and 426 for a WebSocket URL fetched without upgrading.
    func handleHTTP(head: HTTPRequestHead, body: ByteBuffer, remote: String?) async -> LocalResponse {
        let (path, _) = splitURI(head.uri)
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if let marker = parts.firstIndex(where: { $0 == "@connections" || $0.lowercased() == "%40connections" }) {
            return connections(head: head, body: body, apiParts: Array(parts[..<marker]), idParts: Array(parts[(marker + 1)...]))
        }
        if parts.first == "v2" {
            return await controlPlane(head: head, body: body, parts: Array(parts.dropFirst()))
        }
        // The `apigateway` (v1) API's keys and usage plans, served beside v2 as AWS serves them.
        if parts.first == "apikeys" || parts.first == "usageplans", api(parts[0]) == nil {
            return await controlPlane(head: head, body: body, parts: parts)
        }
        if let (_, _, rest) = resolve(host: head.headers.first(name: "Host"), parts: parts), rest.isEmpty {
            return .json(.upgradeRequired, LocalResponse.ErrorBody(message: "Upgrade Required"))
        }
        return .awsError(.forbidden, "ForbiddenException", "Forbidden")
    }

    private func connections(head: HTTPRequestHead, body: ByteBuffer, apiParts: [String], idParts: [String]) -> LocalResponse {
        if configuration.verifiesSignatures,
            let problem = verifier.problem(
                method: head.method.rawValue, uri: head.uri, headers: head.headers, body: body.readableBytesView, service: "execute-api")
        {
            logger.debug("@connections signature refused", metadata: ["apigw.reason": "\(problem)"])
            return .awsError(.forbidden, "ForbiddenException", problem.message)
        }
        guard limits.admitCallback() else {
            return .awsError(.tooManyRequests, "LimitExceededException", "Rate exceeded")
        }
        guard let (api, stage, rest) = resolve(host: head.headers.first(name: "Host"), parts: apiParts), rest.isEmpty else {
            return .awsError(.forbidden, "ForbiddenException", "Forbidden")
        }
        guard idParts.count == 1, let id = strictPercentDecode(idParts[0]), Self.isWellFormed(id) else {
            return .awsError(.badRequest, "BadRequestException", "Invalid connectionId: \(idParts.joined(separator: "/"))")
        }
        guard let connection = connections.get(id), connection.apiId == api.apiId, connection.stage == stage else {
            return .awsError(.gone, "GoneException", nil)
        }
        switch head.method {
        case .POST:
            guard body.readableBytes <= configuration.maximumMessageSize else {
                return .awsError(
                    .payloadTooLarge, "PayloadTooLargeException",
                    "Request must be smaller than \(configuration.maximumMessageSize) bytes for the PostToConnection operation")
            }
            switch send(body, to: id) {
            case .queued:
                postsDelivered.add(1, ordering: .relaxed)
                return LocalResponse(status: .ok)
            case .full: return .awsError(.tooManyRequests, "LimitExceededException", "The client's buffer is full")
            case .closed: return .awsError(.gone, "GoneException", nil)
            }
        case .GET:
            let current = connections.get(id) ?? connection
            return .json(
                .ok,
                ConnectionInfo(
                    connectedAt: current.connectedAt, lastActiveAt: current.lastActiveAt, sourceIP: current.sourceIp,
                    userAgent: current.userAgent))
        case .DELETE:
            close(id, cause: .deletedByBackend)
            return LocalResponse(status: .noContent)
        default:
            return .awsError(.methodNotAllowed, "MethodNotAllowedException", "Method not allowed")
        }
    }

    static func isWellFormed(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128
            && id.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x3D
                    || byte == 0x2D || byte == 0x5F
            }
    }
}
