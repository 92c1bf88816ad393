import Foundation

/// Who API Gateway let in on `$connect`: the authorizer's principal and context, the API key, the
/// IAM caller. Kept with the connection, so every later event can map it
/// (`context.authorizer.principalId`, `context.authorizer.KEY`, `context.identity.apiKeyId`,
/// `context.identity.userArn`, …). A class, so a connection without one pays a pointer.
final class ConnectionIdentity: Sendable {
    let principalId: String?
    /// The authorizer's `context`, each value stringified as AWS passes it on.
    let authorizerContext: [String: String]
    let usageIdentifierKey: String?
    let apiKeyId: String?
    let apiKey: String?
    /// The access key that signed an `AWS_IAM` connect, and the IAM user it stands for here.
    let accessKey: String?
    let userArn: String?
    let accountId: String?

    init(
        principalId: String? = nil, authorizerContext: [String: String] = [:], usageIdentifierKey: String? = nil, apiKeyId: String? = nil,
        apiKey: String? = nil, accessKey: String? = nil, userArn: String? = nil, accountId: String? = nil
    ) {
        self.principalId = principalId
        self.authorizerContext = authorizerContext
        self.usageIdentifierKey = usageIdentifierKey
        self.apiKeyId = apiKeyId
        self.apiKey = apiKey
        self.accessKey = accessKey
        self.userArn = userArn
        self.accountId = accountId
    }

    /// This identity with the API key that admitted the connect.
    func with(apiKey key: LocalAPIKey) -> ConnectionIdentity {
        ConnectionIdentity(
            principalId: principalId, authorizerContext: authorizerContext, usageIdentifierKey: usageIdentifierKey, apiKeyId: key.id,
            apiKey: key.value, accessKey: accessKey, userArn: userArn, accountId: accountId)
    }

    /// `authorizer.principalId`, `authorizer.KEY`, `identity.apiKeyId`, … (after `context.`).
    func value(of name: Substring) -> String? {
        if name.hasPrefix("authorizer.") {
            let key = name.dropFirst("authorizer.".count)
            return key == "principalId" ? principalId : authorizerContext[String(key)]
        }
        switch name {
        case "identity.apiKeyId": return apiKeyId
        case "identity.apiKey": return apiKey
        case "identity.accessKey", "identity.caller", "identity.user": return accessKey
        case "identity.userArn": return userArn
        case "identity.accountId": return accountId
        default: return nil
        }
    }
}
