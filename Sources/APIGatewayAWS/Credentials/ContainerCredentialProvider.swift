public import AsyncHTTPClient
public import Foundation
public import NIOCore
import NIOHTTP1

/// The container agent (ECS, EKS Pod Identity): `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` on
/// `http://169.254.170.2`, or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with the `Authorization`
/// value from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read first) or
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
///
/// A full URI must be `https`, or point at a loopback address or one of the agent's addresses,
/// as boto3 requires. The answer is `{AccessKeyId, SecretAccessKey, Token, Expiration}`.
public struct ContainerCredentialProvider: CredentialProvider {
    public let environment: [String: String]
    public let httpClient: HTTPClient
    public let timeout: TimeAmount
    /// Where relative URIs are resolved: the ECS agent's fixed address.
    public let relativeBase: String

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        httpClient: HTTPClient = .shared,
        timeout: TimeAmount = .seconds(2),
        relativeBase: String = "http://169.254.170.2"
    ) {
        self.environment = environment
        self.httpClient = httpClient
        self.timeout = timeout
        self.relativeBase = relativeBase
    }

    static let allowedHosts: Set<String> = ["169.254.170.2", "169.254.170.23", "fd00:ec2::23", "[fd00:ec2::23]", "localhost"]

    public func credential() async throws -> Credential {
        let url: String
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            url = relativeBase + relative
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty {
            guard let components = URLComponents(string: full), let host = components.host else {
                throw CredentialError.invalid("container: AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL")
            }
            guard components.scheme == "https" || Self.allowedHosts.contains(host) || Self.isLoopback(host) else {
                throw CredentialError.invalid(
                    "container: AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or a loopback or agent address, not \(host)")
            }
            url = full
        } else {
            throw CredentialError.notConfigured("container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set")
        }
        var request = HTTPClientRequest(url: url)
        if let token = try authorizationToken() {
            guard !token.contains("\r") && !token.contains("\n") else {
                throw CredentialError.invalid("container: the authorization token contains a line break")
            }
            request.headers.add(name: "Authorization", value: token)
        }
        request.headers.add(name: "Accept", value: "application/json")
        let body: ByteBuffer
        do {
            let response = try await httpClient.execute(request, timeout: timeout)
            body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                throw CredentialError.unavailable("container: \(url) answered \(response.status.code)")
            }
        } catch let error as CredentialError {
            throw error
        } catch {
            throw CredentialError.unavailable("container: \(url) could not be reached: \(error)")
        }
        return try decodeCredentialDocument(body, source: "container")
    }

    private func authorizationToken() throws -> String? {
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !file.isEmpty {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CredentialError.invalid("container: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(file)")
            }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A literal loopback address: `127.0.0.0/8` in dotted-quad form, or `::1`. A name is never
    /// loopback here, whatever it starts with: it would go through DNS.
    static func isLoopback(_ host: String) -> Bool {
        if host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { octet in
            !octet.isEmpty && octet.count <= 3 && octet.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && Int(octet)! <= 255
        }
    }
}

/// Decodes `{AccessKeyId, SecretAccessKey, Token, Expiration}`, the document both the container
/// agent and the instance metadata service answer.
func decodeCredentialDocument(_ body: ByteBuffer, source: String) throws -> Credential {
    struct Document: Decodable {
        let AccessKeyId: String
        let SecretAccessKey: String
        let Token: String?
        let Expiration: String?
    }
    guard let document = try? JSONDecoder().decode(Document.self, from: Data(body.readableBytesView)) else {
        throw CredentialError.invalid("\(source): the answer is not a credentials document")
    }
    return Credential(
        accessKeyID: document.AccessKeyId, secretAccessKey: document.SecretAccessKey, sessionToken: document.Token,
        expiration: document.Expiration.flatMap(parseISO8601)
    )
}
