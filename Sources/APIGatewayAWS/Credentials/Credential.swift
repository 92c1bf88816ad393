public import Foundation

/// AWS credentials: an access key pair, with a session token and an expiry when temporary.
///
/// `description` never shows the secret or the token, so a credential can be logged safely.
public struct Credential: Sendable, Hashable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working; `nil` for long-term keys.
    public var expiration: Date?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    public var description: String {
        "Credential(\(accessKeyID), secret: <redacted>\(sessionToken == nil ? "" : ", token: <redacted>")\(expiration.map { ", expires \($0)" } ?? ""))"
    }
}
