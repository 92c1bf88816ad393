public import AsyncHTTPClient
import Foundation
public import Logging
public import NIOCore
import NIOHTTP1
import Synchronization

/// The API Gateway v2 control plane (apigatewayv2), the operations provisioning needs: APIs,
/// integrations, routes, route responses, stages, deployments, domain names and API mappings.
///
/// Requests are SigV4-signed for the service `apigateway`; any 2xx is success (moto answers 200
/// where AWS answers 201 or 204); errors are ``AWSError``s; lists follow `nextToken` to the end.
///
/// ```swift
/// let client = ControlPlaneClient(httpClient: .shared, credentials: chain, region: "eu-west-1")
/// let api = try await client.createApi(.init(name: "chat", protocolType: "WEBSOCKET", routeSelectionExpression: "$request.body.action"))
/// ```
public final class ControlPlaneClient: Sendable {
    public let httpClient: HTTPClient
    public let credentials: any CredentialProvider
    public let region: String
    /// `https://apigateway.{region}.amazonaws.com`, or an override (the local gateway, moto).
    public let endpoint: String
    public let timeout: TimeAmount
    public let logger: Logger
    private let signer: SigV4Signer

    public init(
        httpClient: HTTPClient,
        credentials: any CredentialProvider,
        region: String,
        endpoint: String? = nil,
        timeout: TimeAmount = .seconds(30),
        logger: Logger = .disabled
    ) {
        self.httpClient = httpClient
        self.credentials = credentials
        self.region = region
        var base = endpoint ?? "https://apigateway.\(region).\(AWSPartition(region: region).dnsSuffix)"
        while base.hasSuffix("/") { base.removeLast() }
        self.endpoint = base
        self.timeout = timeout
        self.logger = logger
        self.signer = SigV4Signer(service: "apigateway", region: region)
    }

    // MARK: APIs

    public func createApi(_ input: APIGatewayV2.Api) async throws -> APIGatewayV2.Api { try await send(.POST, "/v2/apis", body: input) }
    public func getApi(_ apiId: String) async throws -> APIGatewayV2.Api { try await send(.GET, "/v2/apis/\(e(apiId))") }
    public func updateApi(_ apiId: String, _ input: APIGatewayV2.Api) async throws -> APIGatewayV2.Api {
        try await send(.PATCH, "/v2/apis/\(e(apiId))", body: input)
    }
    public func deleteApi(_ apiId: String) async throws { try await sendEmpty(.DELETE, "/v2/apis/\(e(apiId))") }
    public func getApis(pageSize: Int? = nil) async throws -> [APIGatewayV2.Api] { try await all("/v2/apis", pageSize: pageSize) }

    // MARK: Integrations

    public func createIntegration(_ apiId: String, _ input: APIGatewayV2.Integration) async throws -> APIGatewayV2.Integration {
        try await send(.POST, "/v2/apis/\(e(apiId))/integrations", body: input)
    }
    public func getIntegrations(_ apiId: String, pageSize: Int? = nil) async throws -> [APIGatewayV2.Integration] {
        try await all("/v2/apis/\(e(apiId))/integrations", pageSize: pageSize)
    }
    public func updateIntegration(_ apiId: String, _ integrationId: String, _ input: APIGatewayV2.Integration) async throws
        -> APIGatewayV2.Integration
    {
        try await send(.PATCH, "/v2/apis/\(e(apiId))/integrations/\(e(integrationId))", body: input)
    }
    public func deleteIntegration(_ apiId: String, _ integrationId: String) async throws {
        try await sendEmpty(.DELETE, "/v2/apis/\(e(apiId))/integrations/\(e(integrationId))")
    }

    // MARK: Routes and route responses

    public func createRoute(_ apiId: String, _ input: APIGatewayV2.Route) async throws -> APIGatewayV2.Route {
        try await send(.POST, "/v2/apis/\(e(apiId))/routes", body: input)
    }
    public func getRoutes(_ apiId: String, pageSize: Int? = nil) async throws -> [APIGatewayV2.Route] {
        try await all("/v2/apis/\(e(apiId))/routes", pageSize: pageSize)
    }
    public func updateRoute(_ apiId: String, _ routeId: String, _ input: APIGatewayV2.Route) async throws -> APIGatewayV2.Route {
        try await send(.PATCH, "/v2/apis/\(e(apiId))/routes/\(e(routeId))", body: input)
    }
    public func deleteRoute(_ apiId: String, _ routeId: String) async throws {
        try await sendEmpty(.DELETE, "/v2/apis/\(e(apiId))/routes/\(e(routeId))")
    }
    public func createRouteResponse(_ apiId: String, _ routeId: String, _ input: APIGatewayV2.RouteResponse) async throws
        -> APIGatewayV2.RouteResponse
    {
        try await send(.POST, "/v2/apis/\(e(apiId))/routes/\(e(routeId))/routeresponses", body: input)
    }
    public func getRouteResponses(_ apiId: String, _ routeId: String) async throws -> [APIGatewayV2.RouteResponse] {
        try await all("/v2/apis/\(e(apiId))/routes/\(e(routeId))/routeresponses", pageSize: nil)
    }

    // MARK: Authorizers

    public func createAuthorizer(_ apiId: String, _ input: APIGatewayV2.Authorizer) async throws -> APIGatewayV2.Authorizer {
        try await send(.POST, "/v2/apis/\(e(apiId))/authorizers", body: input)
    }
    public func getAuthorizers(_ apiId: String) async throws -> [APIGatewayV2.Authorizer] {
        try await all("/v2/apis/\(e(apiId))/authorizers", pageSize: nil)
    }
    public func updateAuthorizer(_ apiId: String, _ authorizerId: String, _ input: APIGatewayV2.Authorizer) async throws
        -> APIGatewayV2.Authorizer
    {
        try await send(.PATCH, "/v2/apis/\(e(apiId))/authorizers/\(e(authorizerId))", body: input)
    }
    public func deleteAuthorizer(_ apiId: String, _ authorizerId: String) async throws {
        try await sendEmpty(.DELETE, "/v2/apis/\(e(apiId))/authorizers/\(e(authorizerId))")
    }

    // MARK: Stages and deployments

    public func createStage(_ apiId: String, _ input: APIGatewayV2.Stage) async throws -> APIGatewayV2.Stage {
        try await send(.POST, "/v2/apis/\(e(apiId))/stages", body: input)
    }
    public func getStage(_ apiId: String, _ stageName: String) async throws -> APIGatewayV2.Stage {
        try await send(.GET, "/v2/apis/\(e(apiId))/stages/\(e(stageName))")
    }
    public func getStages(_ apiId: String) async throws -> [APIGatewayV2.Stage] {
        try await all("/v2/apis/\(e(apiId))/stages", pageSize: nil)
    }
    public func updateStage(_ apiId: String, _ stageName: String, _ input: APIGatewayV2.Stage) async throws -> APIGatewayV2.Stage {
        try await send(.PATCH, "/v2/apis/\(e(apiId))/stages/\(e(stageName))", body: input)
    }
    public func deleteStage(_ apiId: String, _ stageName: String) async throws {
        try await sendEmpty(.DELETE, "/v2/apis/\(e(apiId))/stages/\(e(stageName))")
    }
    public func createDeployment(_ apiId: String, _ input: APIGatewayV2.Deployment) async throws -> APIGatewayV2.Deployment {
        try await send(.POST, "/v2/apis/\(e(apiId))/deployments", body: input)
    }

    // MARK: Custom domains

    public func createDomainName(_ input: APIGatewayV2.DomainName) async throws -> APIGatewayV2.DomainName {
        try await send(.POST, "/v2/domainnames", body: input)
    }
    public func getDomainName(_ domainName: String) async throws -> APIGatewayV2.DomainName {
        try await send(.GET, "/v2/domainnames/\(e(domainName))")
    }
    public func updateDomainName(_ domainName: String, _ input: APIGatewayV2.DomainName) async throws -> APIGatewayV2.DomainName {
        try await send(.PATCH, "/v2/domainnames/\(e(domainName))", body: input)
    }
    public func deleteDomainName(_ domainName: String) async throws {
        try await sendEmpty(.DELETE, "/v2/domainnames/\(e(domainName))")
    }
    public func createApiMapping(_ domainName: String, _ input: APIGatewayV2.ApiMapping) async throws -> APIGatewayV2.ApiMapping {
        try await send(.POST, "/v2/domainnames/\(e(domainName))/apimappings", body: input)
    }
    public func getApiMappings(_ domainName: String) async throws -> [APIGatewayV2.ApiMapping] {
        try await all("/v2/domainnames/\(e(domainName))/apimappings", pageSize: nil)
    }

    public func deleteApiMapping(_ domainName: String, _ apiMappingId: String) async throws {
        try await sendEmpty(.DELETE, "/v2/domainnames/\(e(domainName))/apimappings/\(e(apiMappingId))")
    }

    // MARK: Tags

    /// The ARN the tagging calls take for an API: `arn:aws:apigateway:{region}::/apis/{apiId}`.
    public func apiARN(_ apiId: String) -> String {
        "arn:\(AWSPartition(region: region).name):apigateway:\(region)::/apis/\(apiId)"
    }
    public func getTags(_ resourceARN: String) async throws -> [String: String] {
        let answer: APIGatewayV2.Tags = try await send(.GET, "/v2/tags/\(e(resourceARN))")
        return answer.tags ?? [:]
    }
    /// Adds `tags` to the resource, replacing the values of keys it has.
    public func tagResource(_ resourceARN: String, _ tags: [String: String]) async throws {
        let body = try JSONEncoder().encode(APIGatewayV2.Tags(tags: tags))
        _ = try await raw(.POST, "/v2/tags/\(e(resourceARN))", query: [], body: Array(body))  // AWS answers {}, moto nothing
    }
    public func untagResource(_ resourceARN: String, keys: [String]) async throws {
        _ = try await raw(.DELETE, "/v2/tags/\(e(resourceARN))", query: keys.sorted().map { ("tagKeys", $0) }, body: nil)
    }

    // MARK: Transport

    /// Every page of a list, following `nextToken`.
    private func all<Item: Codable & Sendable>(_ path: String, pageSize: Int?) async throws -> [Item] {
        var items: [Item] = []
        var token: String?
        var pages = 0
        repeat {
            var query: [(String, String)] = []
            if let pageSize { query.append(("maxResults", String(pageSize))) }
            if let token { query.append(("nextToken", token)) }
            let page: APIGatewayV2.Page<Item> = try await send(.GET, path, query: query)
            items += page.items ?? []
            token = page.nextToken.flatMap { $0.isEmpty ? nil : $0 }
            pages += 1
        } while token != nil && pages < 10_000
        return items
    }

    private func sendEmpty(_ method: HTTPMethod, _ path: String) async throws {
        _ = try await raw(method, path, query: [], body: nil)
    }

    private func send<Output: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: (some Encodable)? = Optional<Int>.none
    ) async throws -> Output {
        let encoded = try body.map { value -> [UInt8] in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return Array(try encoder.encode(value))
        }
        let answer = try await raw(method, path, query: query, body: encoded)
        do {
            return try JSONDecoder().decode(Output.self, from: Data(answer.readableBytesView))
        } catch {
            throw AWSClientError.invalidResponse("\(method) \(path)", reason: "\(error)")
        }
    }

    private func raw(_ method: HTTPMethod, _ path: String, query: [(String, String)], body: [UInt8]?) async throws -> ByteBuffer {
        let queryString = query.map { "\(uriEncode($0.0, keepSlash: false))=\(uriEncode($0.1, keepSlash: false))" }.joined(separator: "&")
        guard let components = URLComponents(string: endpoint), let host = components.host else {
            throw AWSClientError.invalidEndpoint(endpoint)
        }
        let defaultPort = components.scheme == "https" ? 443 : 80
        let hostHeader = components.port.map { $0 == defaultPort ? host : "\(host):\($0)" } ?? host
        let fullPath = components.percentEncodedPath + path
        var signed = SigV4Request(
            method: method.rawValue, host: hostHeader, path: fullPath, query: queryString,
            headers: body == nil ? [] : [(name: "Content-Type", value: "application/json")], body: body ?? []
        )
        signer.sign(&signed, credential: try await credentials.credential())
        let url = "\(components.scheme ?? "https")://\(hostHeader)\(fullPath)" + (queryString.isEmpty ? "" : "?" + queryString)
        do {
            return try await httpClient.executeAWS(
                method, url: url, signed: signed, body: body.map { ByteBuffer(bytes: $0) }, timeout: timeout, maximumAnswer: 10 << 20
            )
        } catch let error as AWSError {
            logger.debug("control plane error", metadata: ["apigw.request": "\(method) \(path)", "apigw.error": "\(error)"])
            throw error
        }
    }

    private func e(_ segment: String) -> String { uriEncode(segment, keepSlash: false) }
}
