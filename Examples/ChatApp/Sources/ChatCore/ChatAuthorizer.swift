public import APIGatewayProvisioning
public import APIGatewayWebSockets
public import Foundation

/// The examples' Lambda `REQUEST` authorizer, served by the app itself at `POST /authorizer` (on
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

    /// The answer to the authorizer event `body`: 200 with an IAM policy allowing the `methodArn`
    /// and the token's user as the principal; 401 `Unauthorized` without a live token; 400 for a
    /// body that is not an authorizer event.
    public static func answer(_ body: Data, identity: any IdentityStore) async throws -> (status: Int, body: Data) {
        guard let event = try? JSONDecoder().decode(Event.self, from: body) else {
            return (400, Data(#"{"message":"not a REQUEST authorizer event"}"#.utf8))
        }
        guard let token = event.queryStringParameters?["ws_token"],
            let found = try await identity.token(hash: ConnectionTokens.hash(token), at: Date())
        else {
            return (401, Data(#"{"message":"Unauthorized"}"#.utf8))
        }
        let answer: [String: Any] = [
            "principalId": found.userID,
            "policyDocument": [
                "Version": "2012-10-17",
                "Statement": [["Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event.methodArn]],
            ],
        ]
        return (200, try JSONSerialization.data(withJSONObject: answer))
    }
}
