import APIGatewayProvisioning
import APIGatewayWebSockets
import Foundation
import Vapor

/// The example's Lambda `REQUEST` authorizer, served by the app itself at `POST /authorizer` (on
/// AWS it would be a Lambda function; the local gateway calls this URL for it). It allows a
/// connect that brings an unused connection token (`?ws_token=`, from `POST /ws/token`) as the
/// token's user, and answers `Unauthorized` otherwise. The token is only looked at here: the
/// dispatcher uses it up, as for any connect that brings one.
public enum ChatAuthorizer {
    /// The function the authorizer stands for.
    public static let functionARN = "arn:aws:lambda:us-east-1:000000000000:function:chat-authorizer"

    /// `$connect` authorized by it, with the token as its identity source.
    public static var guards: DesiredAPI.Guards {
        DesiredAPI.Guards(
            connectAuthorization: .authorizer(
                DesiredAPI.Authorizer(name: "chat-tokens", functionARN: functionARN, identitySource: ["route.request.querystring.ws_token"])))
    }

    struct Event: Decodable {
        var methodArn: String
        var queryStringParameters: [String: String]?
    }

    static func register(on app: Application, identity: any IdentityStore) {
        app.post("authorizer") { request async throws -> Response in
            let event = try request.content.decode(Event.self, as: .json)
            guard let token = event.queryStringParameters?["ws_token"],
                let found = try await identity.token(hash: ConnectionTokens.hash(token), at: Date())
            else {
                return Response(status: .unauthorized, body: .init(string: #"{"message":"Unauthorized"}"#))
            }
            let answer: [String: Any] = [
                "principalId": found.userID,
                "policyDocument": [
                    "Version": "2012-10-17",
                    "Statement": [["Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event.methodArn]],
                ],
            ]
            var headers = HTTPHeaders()
            headers.contentType = .json
            return Response(status: .ok, headers: headers, body: .init(data: try JSONSerialization.data(withJSONObject: answer)))
        }
    }
}
