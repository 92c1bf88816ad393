import APIGatewayAWS
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The context of one event, for the integration's request parameters.
struct EventContext: Sendable {
    var api: LocalAPI
    var stage: String
    var routeKey: String
    var eventType: String  // CONNECT, MESSAGE, DISCONNECT
    var connectionId: String
    var connectedAt: Date
    var requestId: String
    var messageId: String?
    var sourceIp: String
    var userAgent: String?
    var domainName: String
    var requestTime: Date
    var disconnect: CloseCause?
    /// `$connect` only: the client's headers and query.
    var clientHeaders: [(String, String)] = []
    var clientQuery: String?
    /// Who API Gateway let in on `$connect` (authorizer, API key, IAM), for every event after.
    var identity: ConnectionIdentity?

    /// A `context.*`, `stageVariables.*`, `route.request.*` or `'static'` source.
    func value(of source: String, body: Data?) -> String? {
        if source.hasPrefix("'") && source.hasSuffix("'") && source.count >= 2 { return String(source.dropFirst().dropLast()) }
        if source.hasPrefix("context.") {
            switch source.dropFirst("context.".count) {
            case "connectionId": return connectionId
            case "connectedAt": return String(Int64(connectedAt.timeIntervalSince1970 * 1000))
            case "domainName": return domainName
            case "eventType": return eventType
            case "messageId": return messageId
            case "routeKey": return routeKey
            case "requestId", "extendedRequestId": return requestId
            case "apiId": return api.apiId
            case "stage": return stage
            case "requestTimeEpoch": return String(Int64(requestTime.timeIntervalSince1970 * 1000))
            case "identity.sourceIp": return sourceIp
            case "identity.userAgent": return userAgent
            case "disconnectStatusCode": return disconnect.map { String($0.code) }
            case "disconnectReason": return disconnect?.reason
            case let name: return identity?.value(of: name)
            }
        }
        if source.hasPrefix("stageVariables.") {
            return api.stages[stage]?.stageVariables[String(source.dropFirst("stageVariables.".count))]
        }
        if source.hasPrefix("route.request.header.") {
            let name = source.dropFirst("route.request.header.".count).lowercased()
            return clientHeaders.first { $0.0.lowercased() == name }?.1
        }
        if source.hasPrefix("route.request.querystring.") {
            let name = String(source.dropFirst("route.request.querystring.".count))
            return clientQuery.flatMap { queryValue(name, in: $0[...], plusAsSpace: false) }
        }
        if source.hasPrefix("route.request.body."), let body, let json = try? JSONDecoder().decode(JSONValue.self, from: body) {
            return json.value(at: String(source.dropFirst("route.request.body.".count)))?.text
        }
        return nil
    }
}

/// What an integration answered.
enum IntegrationOutcome: Sendable {
    case response(status: Int, headers: HTTPHeaders, body: ByteBuffer)
    case unreachable(String)
    case timedOut
}

/// Calls `HTTP_PROXY` integrations the way API Gateway does.
struct IntegrationCaller: Sendable {
    let client: HTTPClient

    /// Hop-by-hop and WebSocket handshake headers that are not the backend's business.
    static let notForwarded: Set<String> = [
        "connection", "upgrade", "host", "content-length", "transfer-encoding", "keep-alive", "te", "trailer",
    ]

    /// A mapped value as a header may carry it: CR, LF and NUL would split or end the header.
    static func headerSafe(_ value: String) -> String {
        value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" || $0 == "\r\n" })
            ? String(value.filter { $0 != "\r" && $0 != "\n" && $0 != "\0" && $0 != "\r\n" }) : value
    }

    func call(_ integration: LocalIntegration, context: EventContext, body: ByteBuffer?) async -> IntegrationOutcome {
        guard let uri = integration.integrationUri, !uri.isEmpty else {
            return .unreachable("integration \(integration.integrationId) has no URI")
        }
        var headers = HTTPHeaders()
        if context.eventType == "CONNECT" {
            for (name, value) in context.clientHeaders where !Self.notForwarded.contains(name.lowercased()) {
                headers.add(name: name, value: value)
            }
        } else {
            headers.add(name: "User-Agent", value: "AmazonAPIGateway_\(context.api.apiId)")
        }
        headers.replaceOrAdd(name: "X-Amzn-Apigateway-Api-Id", value: context.api.apiId)
        headers.replaceOrAdd(name: "X-Amzn-Trace-Id", value: makeTraceID(context.requestTime))
        headers.replaceOrAdd(name: "X-Forwarded-For", value: context.sourceIp)
        headers.replaceOrAdd(name: "X-Forwarded-Proto", value: "https")
        headers.replaceOrAdd(name: "X-Forwarded-Port", value: "443")
        // The client's query goes on as it came, with the bytes a URL cannot hold escaped, so
        // nothing a client sends can make the integration URL unparseable.
        var query = context.eventType == "CONNECT" ? context.clientQuery.map(sanitizedQuery) : nil
        // Only `route.request.body.*` mappings read the body: copy it for them alone.
        let bodyData =
            integration.requestParameters.values.contains { $0.hasPrefix("route.request.body.") }
            ? body.map { Data($0.readableBytesView) } : nil
        for (target, source) in integration.requestParameters.sorted(by: { $0.key < $1.key }) {
            guard let value = context.value(of: source, body: bodyData) else {
                // A mapped header with nothing to map is not the client's to fill: on `$connect`
                // a client could otherwise send `X-Apigw-Principal` itself.
                if target.hasPrefix("integration.request.header.") {
                    headers.remove(name: String(target.dropFirst("integration.request.header.".count)))
                }
                continue
            }
            if target.hasPrefix("integration.request.header.") {
                headers.replaceOrAdd(name: String(target.dropFirst("integration.request.header.".count)), value: Self.headerSafe(value))
            } else if target.hasPrefix("integration.request.querystring.") {
                let pair = queryComponent(target.dropFirst("integration.request.querystring.".count)) + "=" + queryComponent(value)
                query = query.map { $0.isEmpty ? pair : "\($0)&\(pair)" } ?? pair
            }
        }
        var url = uri
        if let query, !query.isEmpty { url += (uri.contains("?") ? "&" : "?") + query }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: integration.integrationMethod ?? "POST")
        request.headers = headers
        request.body = .bytes(body ?? ByteBuffer())
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(integration.timeoutInMillis)))
            let answer = try await response.body.collect(upTo: 10 << 20)
            return .response(status: Int(response.status.code), headers: response.headers, body: answer)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return .timedOut
        } catch {
            return .unreachable("\(error)")
        }
    }
}
