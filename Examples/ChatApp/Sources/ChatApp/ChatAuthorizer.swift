import APIGatewayWebSockets
import ChatCore
import Foundation
import Vapor

extension ChatAuthorizer {
    /// Serves the authorizer (``ChatAuthorizer/answer(_:identity:)``) at `POST /authorizer`.
    static func register(on app: Application, identity: any IdentityStore) {
        app.post("authorizer") { request async throws -> Response in
            let body = request.body.data.map { Data(buffer: $0) } ?? Data()
            let (status, answer) = try await ChatAuthorizer.answer(body, identity: identity)
            var headers = HTTPHeaders()
            headers.contentType = .json
            return Response(status: HTTPResponseStatus(statusCode: status), headers: headers, body: .init(data: answer))
        }
    }
}
