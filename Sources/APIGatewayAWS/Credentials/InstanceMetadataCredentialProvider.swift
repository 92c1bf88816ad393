public import AsyncHTTPClient
public import Foundation
public import NIOCore
import NIOHTTP1

/// The EC2 instance metadata service, IMDSv2: `PUT /latest/api/token` for a session token, then
/// with it `GET /latest/meta-data/iam/security-credentials/` for the role name and
/// `GET …/{role}` for the credentials. Short timeouts, one attempt, as boto3 does.
///
/// `AWS_EC2_METADATA_SERVICE_ENDPOINT` overrides the endpoint (`http://169.254.169.254`);
/// `AWS_EC2_METADATA_DISABLED=true` turns the provider off. A 404, 403 or 405 on the token request
/// falls back to IMDSv1 unless `AWS_EC2_METADATA_V1_DISABLED=true`.
public struct InstanceMetadataCredentialProvider: CredentialProvider {
    public let endpoint: String
    public let disabled: Bool
    public let v1Disabled: Bool
    public let httpClient: HTTPClient
    public let timeout: TimeAmount

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        httpClient: HTTPClient = .shared,
        timeout: TimeAmount = .seconds(1)
    ) {
        var endpoint = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        self.endpoint = endpoint
        self.disabled = environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true"
        self.v1Disabled = environment["AWS_EC2_METADATA_V1_DISABLED"]?.lowercased() == "true"
        self.httpClient = httpClient
        self.timeout = timeout
    }

    public func credential() async throws -> Credential {
        guard !disabled else { throw CredentialError.notConfigured("instance metadata: AWS_EC2_METADATA_DISABLED is true") }
        // The token; an unreachable service means "not on EC2".
        var tokenRequest = HTTPClientRequest(url: endpoint + "/latest/api/token")
        tokenRequest.method = .PUT
        tokenRequest.headers.add(name: "x-aws-ec2-metadata-token-ttl-seconds", value: "21600")
        let token: String?
        do {
            let response = try await httpClient.execute(tokenRequest, timeout: timeout)
            let body = try await response.body.collect(upTo: 4096)
            switch response.status.code {
            case 200: token = String(buffer: body)
            case 403 where !v1Disabled, 404 where !v1Disabled, 405 where !v1Disabled: token = nil  // IMDSv1 fallback
            default: throw CredentialError.unavailable("instance metadata: token request answered \(response.status.code)")
            }
        } catch let error as CredentialError {
            throw error
        } catch {
            throw CredentialError.notConfigured("instance metadata: \(endpoint) not reachable (\(error))")
        }
        let role = try await get("/latest/meta-data/iam/security-credentials/", token: token)
        guard let name = String(buffer: role).split(whereSeparator: \.isNewline).first.map(String.init), !name.isEmpty else {
            throw CredentialError.unavailable("instance metadata: no IAM role is attached to this instance")
        }
        return try decodeCredentialDocument(
            try await get("/latest/meta-data/iam/security-credentials/" + name, token: token), source: "instance metadata")
    }

    private func get(_ path: String, token: String?) async throws -> ByteBuffer {
        var request = HTTPClientRequest(url: endpoint + path)
        if let token { request.headers.add(name: "x-aws-ec2-metadata-token", value: token) }
        do {
            let response = try await httpClient.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 1 << 16)
            guard response.status == .ok else {
                // 403 or 404 where the role should be: something answers at the address, but no
                // instance role is here (a proxy, a machine that is not EC2): not configured.
                if [403, 404].contains(response.status.code) {
                    throw CredentialError.notConfigured(
                        "instance metadata: no instance role (GET \(path) answered \(response.status.code))")
                }
                throw CredentialError.unavailable("instance metadata: GET \(path) answered \(response.status.code)")
            }
            return body
        } catch let error as CredentialError {
            throw error
        } catch {
            throw CredentialError.unavailable("instance metadata: GET \(path) failed (\(error))")
        }
    }
}
