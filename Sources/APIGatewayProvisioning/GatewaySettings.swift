import APIGatewayAWS
public import APIGatewayWebSockets
import Foundation

/// What a person decides about one WebSocket API before it exists: its name, where API Gateway
/// reaches the backend, the stage, tags and the optional custom domain. The planner turns these,
/// with the app's registered routes and any ``AdditionalRoute``s, into a ``DesiredAPI``.
///
/// Stored as a gateway record (the Vapor module's `GatewayModel`) and checked by ``validate(allowedIntegrationHosts:)``
/// before it is saved.
public struct GatewaySettings: Sendable, Hashable, Codable {
    /// The API's name in API Gateway, and the record's key: letters, digits, space, `-`, `_`, `.`.
    public var name: String
    public var description: String?
    /// The channel a connection joins when it names none.
    public var defaultChannel: String?
    /// Where API Gateway reaches this backend, e.g. `https://backend.example.com`.
    public var targetBaseURL: String
    public var routeSelectionExpression: String
    public var apiKeySelectionExpression: String
    public var stage: String
    public var stageDescription: String?
    public var region: String
    public var tags: [String: String]
    /// A custom domain clients connect to, e.g. `ws.example.com`; needs ``certificateARN``.
    public var customDomain: String?
    /// The ACM certificate for ``customDomain``, in the API's region.
    public var certificateARN: String?
    /// The Route 53 hosted zone of ``customDomain``, for the alias record pointing at the domain target.
    public var hostedZoneID: String?

    public init(
        name: String,
        description: String? = nil,
        defaultChannel: String? = nil,
        targetBaseURL: String,
        routeSelectionExpression: String = "$request.body.action",
        apiKeySelectionExpression: String = "$request.header.x-api-key",
        stage: String = "production",
        stageDescription: String? = nil,
        region: String = "us-east-1",
        tags: [String: String] = [:],
        customDomain: String? = nil,
        certificateARN: String? = nil,
        hostedZoneID: String? = nil
    ) {
        self.name = name
        self.description = description
        self.defaultChannel = defaultChannel
        self.targetBaseURL = targetBaseURL
        self.routeSelectionExpression = routeSelectionExpression
        self.apiKeySelectionExpression = apiKeySelectionExpression
        self.stage = stage
        self.stageDescription = stageDescription
        self.region = region
        self.tags = tags
        self.customDomain = customDomain
        self.certificateARN = certificateARN
        self.hostedZoneID = hostedZoneID
    }

    /// Checks every field and reports all problems at once.
    /// - Parameter allowedIntegrationHosts: when not empty, the only hosts ``targetBaseURL`` may name.
    /// - Throws: ``ProvisioningError`` (``ProvisioningError/Code/invalid``) listing each bad field.
    public func validate(allowedIntegrationHosts: Set<String> = []) throws(ProvisioningError) {
        var problems: [ProvisioningError.Problem] = []
        func check(_ field: String, _ message: String?) { if let message { problems.append(.init(field: field, message: message)) } }
        check("name", Validation.apiName(name))
        check("description", Validation.length(description, max: 1024))
        check(
            "defaultChannel",
            defaultChannel.flatMap { channel in (try? ChannelName(channel)) == nil ? "'\(channel)' is not a channel name" : nil })
        check("targetBaseURL", Validation.integrationURL(targetBaseURL, allowedHosts: allowedIntegrationHosts))
        check("routeSelectionExpression", Validation.routeSelectionExpression(routeSelectionExpression))
        check(
            "apiKeySelectionExpression",
            ["$request.header.x-api-key", "$context.authorizer.usageIdentifierKey"].contains(apiKeySelectionExpression)
                ? nil : "must be $request.header.x-api-key or $context.authorizer.usageIdentifierKey")
        check("stage", Validation.stageName(stage))
        check("stageDescription", Validation.length(stageDescription, max: 1024))
        check("region", Validation.region(region))
        check("tags", Validation.tags(tags))
        check("customDomain", customDomain.flatMap(Validation.domainName))
        check("certificateARN", Validation.certificate(certificateARN, domain: customDomain))
        check(
            "hostedZoneID",
            hostedZoneID.flatMap {
                Validation.matches($0, #"^Z[A-Z0-9]{1,31}$"#)
                    ? nil : "'\($0)' is not a Route 53 hosted zone id (Z followed by capitals and digits)"
            })
        if !problems.isEmpty { throw .invalid(problems) }
    }
}

/// A route the app's controllers do not declare, pointing at any allowed HTTP endpoint: kept as a
/// record and planned with the registered routes.
public struct AdditionalRoute: Sendable, Hashable, Codable {
    /// A label for people, e.g. "Billing events".
    public var name: String
    public var routeKey: RouteKey
    /// The full URL API Gateway posts this route's messages to.
    public var integrationURL: String

    public init(name: String, routeKey: RouteKey, integrationURL: String) {
        self.name = name
        self.routeKey = routeKey
        self.integrationURL = integrationURL
    }

    /// - Throws: ``ProvisioningError`` (``ProvisioningError/Code/invalid``) listing each bad field.
    public func validate(allowedIntegrationHosts: Set<String> = []) throws(ProvisioningError) {
        var problems: [ProvisioningError.Problem] = []
        if name.trimmingCharacters(in: .whitespaces).isEmpty || name.count > 128 {
            problems.append(.init(field: "name", message: "must be 1 to 128 characters"))
        }
        if let message = Validation.integrationURL(integrationURL, allowedHosts: allowedIntegrationHosts) {
            problems.append(.init(field: "integrationURL", message: message))
        }
        if !problems.isEmpty { throw .invalid(problems) }
    }
}

/// The syntax rules API Gateway, ACM and DNS impose, as messages (nil: valid).
enum Validation {
    static func matches(_ value: String, _ pattern: String) -> Bool {
        value.range(of: pattern, options: .regularExpression) != nil
    }

    static func length(_ value: String?, max: Int) -> String? {
        guard let value, value.count > max else { return nil }
        return "at most \(max) characters (\(value.count) given)"
    }

    static func apiName(_ name: String) -> String? {
        if name.isEmpty || name.count > 128 { return "must be 1 to 128 characters" }
        if !matches(name, #"^[A-Za-z0-9 ._-]+$"#) { return "'\(name)' may use only letters, digits, space, '.', '_' and '-'" }
        if name.first == " " || name.last == " " { return "must not start or end with a space" }
        return nil
    }

    static func stageName(_ stage: String) -> String? {
        if stage.isEmpty || stage.count > 128 { return "must be 1 to 128 characters" }
        return GatewayRecord.isValidStage(stage) ? nil : "'\(stage)' may use only letters, digits, '_' and '-'"
    }

    static func region(_ region: String) -> String? {
        AWSPartition.isValidRegion(region) ? nil : "'\(region)' is not an AWS region such as eu-west-1"
    }

    static func routeSelectionExpression(_ expression: String) -> String? {
        matches(expression, #"^\$request\.body\.[A-Za-z0-9_.\-]+$"#)
            ? nil : "'\(expression)' must select a body field, e.g. $request.body.action"
    }

    /// A lower-case host name of at least two labels, each 1–63 of `a-z0-9-` not starting or
    /// ending with `-`, 253 characters at most.
    static func domainName(_ domain: String) -> String? {
        if domain.count > 253 { return "at most 253 characters" }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return "'\(domain)' needs at least two labels, e.g. ws.example.com" }
        for label in labels {
            guard !label.isEmpty, label.count <= 63, matches(String(label), #"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"#) else {
                return "'\(domain)' is not a domain name: each label is 1 to 63 lower-case letters, digits or inner hyphens"
            }
        }
        return labels.last!.allSatisfy(\.isNumber) ? "'\(domain)' is an address, not a domain name" : nil
    }

    static func certificate(_ arn: String?, domain: String?) -> String? {
        guard let arn else { return domain == nil ? nil : "a custom domain needs its ACM certificate ARN" }
        return matches(arn, #"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$"#)
            ? nil : "'\(arn)' is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)"
    }

    static func tags(_ tags: [String: String]) -> String? {
        if tags.count > 50 { return "at most 50 tags" }
        for (key, value) in tags.sorted(by: { $0.key < $1.key }) {
            if key.isEmpty || key.count > 128 { return "tag key '\(key)' must be 1 to 128 characters" }
            if key.lowercased().hasPrefix("aws:") { return "tag key '\(key)' uses the reserved prefix aws:" }
            if value.count > 256 { return "tag '\(key)' has a value over 256 characters" }
        }
        return nil
    }

    /// An absolute `http(s)` URL with a host (in `allowedHosts` when that is not empty), no query
    /// or fragment.
    static func integrationURL(_ url: String, allowedHosts: Set<String>) -> String? {
        if url.isEmpty { return "not set: where API Gateway reaches this backend, e.g. https://backend.example.com" }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme),
            let host = components.host, !host.isEmpty
        else { return "'\(url)' is not an absolute http(s) URL" }
        if components.query != nil || components.fragment != nil { return "'\(url)' must not have a query or fragment" }
        if !allowedHosts.isEmpty && !allowedHosts.contains(host.lowercased()) {
            return "host '\(host)' is not in the allowed integration hosts (\(allowedHosts.sorted().joined(separator: ", ")))"
        }
        return nil
    }
}
