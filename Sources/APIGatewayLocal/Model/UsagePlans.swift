public import Foundation

/// An API key of the `apigateway` (v1) API: what a client sends in `x-api-key` (or an authorizer
/// answers as `usageIdentifierKey`) on a route that requires one.
public struct LocalAPIKey: Codable, Sendable, Hashable {
    public var id: String
    public var value: String
    public var name: String?
    public var description: String?
    public var enabled: Bool
    public var customerId: String?
    public var createdDate: Date = Date()
    public var lastUpdatedDate: Date = Date()
    public var tags: [String: String]?

    public init(id: String, value: String, name: String?, enabled: Bool = true) {
        self.id = id
        self.value = value
        self.name = name
        self.enabled = enabled
    }
}

/// A usage plan: the API stages it covers, its throttle and quota, and the keys it meters.
public struct LocalUsagePlan: Codable, Sendable, Hashable {
    public struct APIStage: Codable, Sendable, Hashable {
        public var apiId: String
        public var stage: String
        public init(apiId: String, stage: String) {
            self.apiId = apiId
            self.stage = stage
        }
    }

    public struct Throttle: Codable, Sendable, Hashable {
        public var burstLimit: Int?
        public var rateLimit: Double?
        public init(burstLimit: Int? = nil, rateLimit: Double? = nil) {
            self.burstLimit = burstLimit
            self.rateLimit = rateLimit
        }
    }

    /// Requests a `DAY`, `WEEK` or `MONTH` (UTC), counted from the period's start.
    public struct Quota: Codable, Sendable, Hashable {
        public var limit: Int
        public var offset: Int?
        public var period: String
        public init(limit: Int, offset: Int? = nil, period: String) {
            self.limit = limit
            self.offset = offset
            self.period = period
        }
    }

    public var id: String
    public var name: String
    public var description: String?
    public var apiStages: [APIStage]
    public var throttle: Throttle?
    public var quota: Quota?
    /// The ids of its keys.
    public var keyIds: [String]
    public var tags: [String: String]?

    public init(id: String, name: String, apiStages: [APIStage], throttle: Throttle? = nil, quota: Quota? = nil, keyIds: [String] = []) {
        self.id = id
        self.name = name
        self.apiStages = apiStages
        self.throttle = throttle
        self.quota = quota
        self.keyIds = keyIds
    }

    /// Whether it meters `apiId`'s `stage`.
    public func covers(apiId: String, stage: String) -> Bool { apiStages.contains { $0.apiId == apiId && $0.stage == stage } }
}
