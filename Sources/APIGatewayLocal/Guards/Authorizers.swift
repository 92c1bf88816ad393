import APIGatewayAWS
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// What an authorizer decided for one `$connect`, as the client hears it.
enum AuthorizerVerdict: Sendable {
    /// An `Allow` for the `methodArn`: who, and the context every later event may map.
    case allow(ConnectionIdentity)
    /// 403: an explicit `Deny`, or no `Allow` for the `methodArn`.
    case deny
    /// 401: an identity source is missing, or the authorizer said `Unauthorized`.
    case unauthorized
    /// 500: the authorizer failed, timed out, or answered something that is not an authorizer
    /// answer (AWS's `AuthorizerConfigurationException`); `reason` is logged, never sent.
    case failed(String)

    /// Whether it is cached for the authorizer's TTL: an allow or a deny.
    var isKept: Bool {
        switch self {
        case .allow, .deny: true
        case .unauthorized, .failed: false
        }
    }
}

/// The identity-source expressions of a WebSocket API's `REQUEST` authorizer.
enum AuthorizerIdentity {
    /// `source` as the mapping it reads (`route.request.header.Auth`), accepting the `$request.`
    /// form HTTP APIs write; `nil` when it names nothing a `$connect` has.
    static func normalized(_ source: String) -> String? {
        var text = source.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("$request.") { text = "route.request." + text.dropFirst("$request.".count) }
        if text.hasPrefix("$context.") { text = String(text.dropFirst()) }
        if text.hasPrefix("$stageVariables.") { text = String(text.dropFirst()) }
        for prefix in ["route.request.header.", "route.request.querystring.", "stageVariables.", "context."]
        where text.hasPrefix(prefix) && text.count > prefix.count {
            return text
        }
        return nil
    }
}

/// Calls `REQUEST` authorizers over HTTP with the Lambda authorizer event and reads their answer
/// as a Lambda authorizer's, caching answers by identity for the authorizer's TTL.
struct AuthorizerCaller: Sendable {
    let client: HTTPClient
    let cache: AuthorizerCache
    let configuration: LocalGatewayConfiguration
    /// Lambda functions → the URLs that answer their events (`LocalGateway/authorizerFunctions`).
    let functions: [String: String]
    /// AWS's limit on an authorizer's answer.
    static let maximumAnswerSize = 8 * 1024
    /// How long the authorizer may take (a Lambda authorizer's limit on AWS).
    static let timeout: TimeAmount = .seconds(10)

    /// The `methodArn` of a `$connect`: `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/$connect`.
    func methodArn(_ context: EventContext) -> String {
        "arn:aws:execute-api:\(configuration.region):\(configuration.accountID):\(context.api.apiId)/\(context.stage)/\(context.routeKey)"
    }

    func authorize(_ authorizer: LocalAuthorizer, context: EventContext, headers: HTTPHeaders) async -> AuthorizerVerdict {
        // A missing identity source is answered 401 before the authorizer is called.
        var identity: [String] = []
        for source in authorizer.identitySource {
            guard let expression = AuthorizerIdentity.normalized(source), let value = context.value(of: expression, body: nil),
                !value.isEmpty
            else { return .unauthorized }
            identity.append(value)
        }
        let methodArn = methodArn(context)
        let cacheKey =
            authorizer.authorizerResultTtlInSeconds > 0 && !identity.isEmpty
            ? AuthorizerCache.Key(authorizerId: authorizer.authorizerId, identity: identity, methodArn: methodArn) : nil
        let now = configuration.clock.now()
        if let cacheKey, let cached = cache.answer(for: cacheKey, at: now) { return cached }
        guard let url = endpoint(of: authorizer) else {
            return .failed("authorizer \(authorizer.authorizerId) has no http(s) URL (map its Lambda function with --authorizer-function)")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: WireJSON.encode(event(context: context, headers: headers, methodArn: methodArn))))
        let verdict: AuthorizerVerdict
        do {
            let response = try await client.execute(request, timeout: Self.timeout)
            let body = try await response.body.collect(upTo: 1 << 20)
            switch response.status.code {
            case 200..<300: verdict = Self.verdict(Data(body.readableBytesView), methodArn: methodArn)
            case 401: verdict = .unauthorized  // a Lambda authorizer's `raise Exception("Unauthorized")`
            case 403: verdict = .deny
            default: verdict = .failed("the authorizer answered \(response.status.code)")
            }
        } catch {
            verdict = .failed("the authorizer could not be called: \(error)")
        }
        // A failure is not an answer, and an `Unauthorized` is not kept either (random tokens would
        // fill the cache): the next connect calls again.
        if let cacheKey, verdict.isKept {
            cache.store(verdict, for: cacheKey, until: now.addingTimeInterval(TimeInterval(authorizer.authorizerResultTtlInSeconds)))
        }
        return verdict
    }

    /// The URL the authorizer is called at: its `authorizerUri` when that is one, else the URL
    /// its Lambda function is mapped to.
    private func endpoint(of authorizer: LocalAuthorizer) -> String? {
        guard let uri = authorizer.authorizerUri else { return nil }
        if uri.hasPrefix("http://") || uri.hasPrefix("https://") { return uri }
        if let mapped = functions[uri] { return mapped }
        // `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function ARN}/invocations`
        if let start = uri.range(of: "/functions/"), let end = uri.range(of: "/invocations", options: .backwards),
            start.upperBound <= end.lowerBound
        {
            return functions[String(uri[start.upperBound..<end.lowerBound])]
        }
        return nil
    }

    /// The Lambda `REQUEST` authorizer event of a WebSocket `$connect`.
    private func event(context: EventContext, headers: HTTPHeaders, methodArn: String) -> AuthorizerEvent {
        var single: [String: String] = [:]
        var multi: [String: [String]] = [:]
        for header in headers {
            single[header.name] = header.value
            multi[header.name, default: []].append(header.value)
        }
        var query: [String: String] = [:]
        var multiQuery: [String: [String]] = [:]
        for item in queryItems((context.clientQuery ?? "")[...]) {
            let name = percentDecode(item.name, plusAsSpace: false)
            let value = item.value.map { percentDecode($0, plusAsSpace: false) } ?? ""
            query[name] = value
            multiQuery[name, default: []].append(value)
        }
        let epoch = Int64(context.requestTime.timeIntervalSince1970 * 1000)
        return AuthorizerEvent(
            methodArn: methodArn, headers: single, multiValueHeaders: multi, queryStringParameters: query.isEmpty ? nil : query,
            multiValueQueryStringParameters: multiQuery.isEmpty ? nil : multiQuery,
            stageVariables: context.api.stages[context.stage]?.stageVariables ?? [:],
            requestContext: .init(
                routeKey: context.routeKey, eventType: context.eventType, extendedRequestId: context.requestId,
                requestTime: EventContext.commonLogTime(context.requestTime), stage: context.stage,
                connectedAt: Int64(context.connectedAt.timeIntervalSince1970 * 1000), requestTimeEpoch: epoch,
                identity: .init(sourceIp: context.sourceIp, userAgent: context.userAgent), requestId: context.requestId,
                domainName: context.domainName, connectionId: context.connectionId, apiId: context.api.apiId))
    }

    /// An authorizer's answer read as API Gateway reads a Lambda authorizer's: `principalId`, a
    /// `policyDocument` whose statements allow or deny `execute-api:Invoke` on resources matched
    /// with `*` and `?` (a `Deny` wins), a flat `context` of strings, numbers and booleans, and
    /// `usageIdentifierKey`; at most 8 KB.
    static func verdict(_ data: Data, methodArn: String) -> AuthorizerVerdict {
        guard data.count <= maximumAnswerSize else { return .failed("the authorizer's answer is over 8 KB (\(data.count) bytes)") }
        guard case .object(let answer)? = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            return .failed("the authorizer's answer is not a JSON object")
        }
        var principal: String?
        switch answer["principalId"] {
        case nil, .null?: principal = nil
        case .string(let text)?: principal = text
        default: return .failed("principalId is not a string")
        }
        var context: [String: String] = [:]
        switch answer["context"] {
        case nil, .null?: break
        case .object(let values)?:
            for (key, value) in values {
                switch value {
                case .string, .number, .bool: context[key] = value.text
                case .null: continue
                default: return .failed("context.\(key) is not a string, number or boolean")
                }
            }
        default: return .failed("context is not an object")
        }
        var usageIdentifierKey: String?
        if case .string(let key)? = answer["usageIdentifierKey"] { usageIdentifierKey = key }
        // IAM's grammar takes one statement or a list of them.
        guard case .object(let policy)? = answer["policyDocument"] else { return .failed("the answer has no policyDocument") }
        let statements: [JSONValue]
        switch policy["Statement"] {
        case .array(let list)?: statements = list
        case .object(let one)?: statements = [.object(one)]
        default: return .failed("the policyDocument has no Statement")
        }
        var allowed = false
        for case .object(let statement) in statements {
            guard case .string(let effect)? = statement["Effect"], effect == "Allow" || effect == "Deny" else {
                return .failed("a statement's Effect is neither Allow nor Deny")
            }
            let actions = strings(statement["Action"])
            let resources = strings(statement["Resource"])
            // Action names are not case-sensitive in IAM; resources are.
            guard actions.contains(where: { glob($0.lowercased(), matches: "execute-api:invoke") }),
                resources.contains(where: { glob($0, matches: methodArn) })
            else { continue }
            if effect == "Deny" { return .deny }
            allowed = true
        }
        guard allowed else { return .deny }
        return .allow(ConnectionIdentity(principalId: principal, authorizerContext: context, usageIdentifierKey: usageIdentifierKey))
    }

    private static func strings(_ value: JSONValue?) -> [String] {
        switch value {
        case .string(let text)?: [text]
        case .array(let items)?: items.compactMap { if case .string(let text) = $0 { text } else { nil } }
        default: []
        }
    }

    /// IAM's wildcard match: `*` any run of characters, `?` any one.
    static func glob(_ pattern: String, matches text: String) -> Bool {
        let p = Array(pattern.utf8)
        let t = Array(text.utf8)
        var (i, j) = (0, 0)
        var star: Int?
        var mark = 0
        while j < t.count {
            if i < p.count, p[i] == UInt8(ascii: "?") || p[i] == t[j] {
                i += 1
                j += 1
            } else if i < p.count, p[i] == UInt8(ascii: "*") {
                star = i
                mark = j
                i += 1
            } else if let star {
                i = star + 1
                mark += 1
                j = mark
            } else {
                return false
            }
        }
        while i < p.count, p[i] == UInt8(ascii: "*") { i += 1 }
        return i == p.count
    }
}

/// The Lambda `REQUEST` authorizer event of a WebSocket API.
struct AuthorizerEvent: Encodable {
    var type = "REQUEST"
    var methodArn: String
    var headers: [String: String]
    var multiValueHeaders: [String: [String]]
    var queryStringParameters: [String: String]?
    var multiValueQueryStringParameters: [String: [String]]?
    var stageVariables: [String: String]
    var requestContext: RequestContext

    struct RequestContext: Encodable {
        var routeKey: String
        var eventType: String
        var extendedRequestId: String
        var requestTime: String
        var messageDirection = "IN"
        var stage: String
        var connectedAt: Int64
        var requestTimeEpoch: Int64
        var identity: Identity
        var requestId: String
        var domainName: String
        var connectionId: String
        var apiId: String
    }

    struct Identity: Encodable {
        var sourceIp: String
        var userAgent: String?
    }
}

/// Authorizer answers by identity, until their TTL; bounded, oldest first out.
final class AuthorizerCache: Sendable {
    /// The authorizer, and a digest of the identity values and `methodArn`: a key's size does not
    /// depend on what the client sent.
    struct Key: Hashable, Sendable {
        let authorizerId: String
        let digest: String

        init(authorizerId: String, identity: [String], methodArn: String) {
            self.authorizerId = authorizerId
            digest = SigV4Signer.hexSHA256((identity + [methodArn]).joined(separator: "\u{0}").utf8)
        }
    }

    private struct Entry {
        let verdict: AuthorizerVerdict
        let until: Date
    }

    static let capacity = 10_000
    private let entries = Mutex<[Key: Entry]>([:])

    func answer(for key: Key, at now: Date) -> AuthorizerVerdict? {
        entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.until > now else {
                entries[key] = nil
                return nil
            }
            return entry.verdict
        }
    }

    func store(_ verdict: AuthorizerVerdict, for key: Key, until: Date) {
        entries.withLock { entries in
            // Full: one entry goes, whichever the table gives first (no scan under the lock).
            if entries[key] == nil, entries.count >= Self.capacity, let any = entries.first?.key { entries[any] = nil }
            entries[key] = Entry(verdict: verdict, until: until)
        }
    }

    /// How many answers are kept.
    var count: Int { entries.withLock { $0.count } }

    /// Drops what an authorizer answered, when it changes or goes.
    func forget(authorizerId: String) {
        entries.withLock { entries in entries = entries.filter { $0.key.authorizerId != authorizerId } }
    }
}
