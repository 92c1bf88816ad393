public import Foundation

/// Somewhere credentials come from: explicit values, the environment, the shared files, the
/// container agent, or the EC2 instance metadata service.
public protocol CredentialProvider: Sendable {
    /// The current credentials.
    /// - Throws: ``CredentialError/notConfigured(_:)`` when this source is not set up here (a chain
    ///   then tries the next), or another ``CredentialError`` when it is set up but failed.
    func credential() async throws -> Credential
}

/// Why credentials could not be had.
public struct CredentialError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable { case notConfigured, invalid, unavailable }
    private let kind: Kind
    /// Which provider, and what went wrong. Never contains a secret.
    public let reason: String

    /// The source is not set up in this environment; a chain moves on to the next.
    public static func notConfigured(_ reason: String) -> CredentialError { CredentialError(kind: .notConfigured, reason: reason) }
    /// The source is set up but its configuration or answer is wrong.
    public static func invalid(_ reason: String) -> CredentialError { CredentialError(kind: .invalid, reason: reason) }
    /// The source is set up but could not be reached or refused.
    public static func unavailable(_ reason: String) -> CredentialError { CredentialError(kind: .unavailable, reason: reason) }

    public var isNotConfigured: Bool { kind == .notConfigured }

    public var description: String { reason }
}

/// Fixed credentials, e.g. given in code or configuration.
public struct StaticCredentialProvider: CredentialProvider {
    public let value: Credential
    public init(_ value: Credential) { self.value = value }
    public func credential() async throws -> Credential { value }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, and `AWS_SESSION_TOKEN` (or the legacy
/// `AWS_SECURITY_TOKEN`), with `AWS_CREDENTIAL_EXPIRATION` when set.
public struct EnvironmentCredentialProvider: CredentialProvider {
    public let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func credential() async throws -> Credential {
        guard let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty else {
            throw CredentialError.notConfigured("environment: AWS_ACCESS_KEY_ID is not set")
        }
        guard let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            throw CredentialError.invalid("environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        }
        let token =
            environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["AWS_SECURITY_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return Credential(
            accessKeyID: key, secretAccessKey: secret, sessionToken: token,
            expiration: environment["AWS_CREDENTIAL_EXPIRATION"].flatMap(parseISO8601)
        )
    }
}

/// Tries providers in order; the first that is configured answers. A provider that is configured
/// but fails stops the chain with its error, as boto3 does.
public struct CredentialProviderChain: CredentialProvider {
    public let providers: [any CredentialProvider]

    public init(_ providers: [any CredentialProvider]) { self.providers = providers }

    public func credential() async throws -> Credential {
        var skipped: [String] = []
        for provider in providers {
            do {
                return try await provider.credential()
            } catch let error as CredentialError where error.isNotConfigured {
                skipped.append(error.reason)
            }
        }
        throw CredentialError.notConfigured(
            "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), "
                + "or AWS_PROFILE with a profile in ~/.aws/credentials, or run where a container or instance role provides them; tried: "
                + skipped.joined(separator: "; "))
    }
}

/// Parses `2026-11-29T12:00:00Z`, with or without fractional seconds.
func parseISO8601(_ text: String) -> Date? {
    let formatter = ISO8601DateFormatter()
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.date(from: text)
}
