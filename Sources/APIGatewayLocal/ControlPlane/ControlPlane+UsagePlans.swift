import APIGatewayAWS
import Foundation
import NIOHTTP1

/// `/apikeys[/{id}]`, `/usageplans[/{id}[/keys[/{keyId}]]]`: the `apigateway` (v1) API that the
/// AWS SDKs use for API keys and usage plans of every API type, WebSocket APIs included
/// (boto3's `apigateway` client: `create_api_key`, `create_usage_plan`, `create_usage_plan_key`).
/// Its wire differs from v2's: dates are epoch seconds, lists are `{"item": […], "position"}`,
/// updates are `patchOperations`, and deletes answer 202.
extension LocalGateway {
    func apiKeys(_ request: ControlPlaneRequest) throws -> LocalResponse {
        guard request.parts.count <= 2 else { throw ControlPlaneError.notFound("resource") }
        guard request.parts.count == 2 else {
            switch request.method {
            case .POST:
                let input = try request.decode(V1.APIKeyInput.self)
                if let value = input.value, value.count < 20 {
                    throw ControlPlaneError.badRequest("API Key value should be at least 20 characters")
                }
                let key = try state.update { held in
                    var key = LocalAPIKey(
                        id: Self.makeID(length: 10), value: input.value ?? Self.makeID(length: 40), name: input.name,
                        enabled: input.enabled ?? false)
                    guard !held.apiKeys.values.contains(where: { $0.value == key.value }) else {
                        throw ControlPlaneError.conflict("API Key already exists")
                    }
                    key.description = input.description
                    key.customerId = input.customerId
                    key.tags = input.tags
                    held.apiKeys[key.id] = key
                    return key
                }
                return .json(.created, V1.APIKey(key, includeValue: true))
            case .GET:
                let includeValues = request.values("includeValues").last == "true"
                let name = request.values("name").last
                let keys = state.read { $0.apiKeys.values }.filter { name == nil || $0.name == name }
                    .sorted { $0.createdDate < $1.createdDate }
                return try request.v1Page(keys.map { V1.APIKey($0, includeValue: includeValues) })
            default:
                throw ControlPlaneError.missing("api_Key")
            }
        }
        let id = try request.segment(1, named: "api_Key")
        switch request.method {
        case .GET:
            let key = try state.read { $0.apiKeys[id] }.orThrow(ControlPlaneError.notFound("API Key"))
            return .json(.ok, V1.APIKey(key, includeValue: request.values("includeValue").last == "true"))
        case .PATCH:
            let operations = try request.decode(V1.Patch.self).patchOperations ?? []
            let key = try state.update { held in
                var key = try held.apiKeys[id].orThrow(ControlPlaneError.notFound("API Key"))
                for operation in operations {
                    switch (operation.op, operation.path) {
                    case ("replace", "/enabled"): key.enabled = try operation.bool()
                    case ("replace", "/name"): key.name = operation.value
                    case ("replace", "/description"): key.description = operation.value
                    case ("replace", "/customerId"): key.customerId = operation.value
                    default: throw ControlPlaneError.badRequest("Invalid patch operation \(operation.op) \(operation.path)")
                    }
                }
                key.lastUpdatedDate = Date()
                held.apiKeys[id] = key
                return key
            }
            return .json(.ok, V1.APIKey(key, includeValue: false))
        case .DELETE:
            try state.update { held in
                guard held.apiKeys.removeValue(forKey: id) != nil else { throw ControlPlaneError.notFound("API Key") }
                for planID in held.usagePlans.keys { held.usagePlans[planID]!.keyIds.removeAll { $0 == id } }
            }
            return LocalResponse(status: .accepted)
        default:
            throw ControlPlaneError.methodNotAllowed
        }
    }

    func usagePlans(_ request: ControlPlaneRequest) throws -> LocalResponse {
        let parts = request.parts
        if parts.count > 2 {
            guard parts[2] == "keys", parts.count <= 4 else { throw ControlPlaneError.notFound("resource") }
            return try usagePlanKeys(try request.segment(1, named: "usageplanId"), request)
        }
        guard parts.count == 2 else {
            switch request.method {
            case .POST:
                let input = try request.decode(V1.UsagePlanInput.self)
                guard let name = input.name, !name.isEmpty else { throw ControlPlaneError.badRequest("name is required") }
                try Self.check(input.throttle, input.quota)
                let plan = try state.update { held in
                    let stages = try (input.apiStages ?? []).map { stage in
                        guard let api = held.apis[stage.apiId], api.stages[stage.stage] != nil else {
                            throw ControlPlaneError.notFound("stage \(stage.apiId):\(stage.stage)")
                        }
                        return stage
                    }
                    var plan = LocalUsagePlan(id: Self.makeID(length: 6), name: name, apiStages: stages, throttle: input.throttle, quota: input.quota)
                    plan.description = input.description
                    plan.tags = input.tags
                    held.usagePlans[plan.id] = plan
                    return plan
                }
                return .json(.created, V1.UsagePlan(plan))
            case .GET:
                let keyId = request.values("keyId").last
                let plans = state.read { $0.usagePlans.values }.filter { keyId == nil || $0.keyIds.contains(keyId!) }
                    .sorted { $0.id < $1.id }
                return try request.v1Page(plans.map(V1.UsagePlan.init))
            default:
                throw ControlPlaneError.missing("usageplanId")
            }
        }
        let id = try request.segment(1, named: "usageplanId")
        switch request.method {
        case .GET:
            return .json(.ok, V1.UsagePlan(try state.read { $0.usagePlans[id] }.orThrow(ControlPlaneError.notFound("Usage Plan"))))
        case .PATCH:
            let operations = try request.decode(V1.Patch.self).patchOperations ?? []
            let plan = try state.update { held in
                var plan = try held.usagePlans[id].orThrow(ControlPlaneError.notFound("Usage Plan"))
                for operation in operations { try operation.apply(to: &plan, apis: held.apis, plans: held.usagePlans) }
                try Self.check(plan.throttle, plan.quota)
                held.usagePlans[id] = plan
                return plan
            }
            usagePlanMeter.forget(planId: id)
            return .json(.ok, V1.UsagePlan(plan))
        case .DELETE:
            try state.update { held in
                guard held.usagePlans.removeValue(forKey: id) != nil else { throw ControlPlaneError.notFound("Usage Plan") }
            }
            usagePlanMeter.forget(planId: id)
            return LocalResponse(status: .accepted)
        default:
            throw ControlPlaneError.methodNotAllowed
        }
    }

    /// `/usageplans/{id}/keys[/{keyId}]`.
    private func usagePlanKeys(_ planId: String, _ request: ControlPlaneRequest) throws -> LocalResponse {
        guard request.parts.count == 4 else {
            switch request.method {
            case .POST:
                let input = try request.decode(V1.UsagePlanKeyInput.self)
                guard let keyId = input.keyId, !keyId.isEmpty else { throw ControlPlaneError.badRequest("keyId is required") }
                guard (input.keyType ?? "API_KEY") == "API_KEY" else { throw ControlPlaneError.badRequest("keyType must be API_KEY") }
                let key = try state.update { held in
                    guard var plan = held.usagePlans[planId] else { throw ControlPlaneError.notFound("Usage Plan") }
                    let key = try held.apiKeys[keyId].orThrow(ControlPlaneError.notFound("API Key"))
                    guard !plan.keyIds.contains(keyId) else { throw ControlPlaneError.conflict("Usage Plan Key already exists") }
                    // A key meters one plan per API stage.
                    for other in held.usagePlans.values where other.id != planId && other.keyIds.contains(keyId) {
                        if other.apiStages.contains(where: { stage in plan.apiStages.contains(stage) }) {
                            throw ControlPlaneError.conflict("API Key \(keyId) is already in usage plan \(other.id) for one of its stages")
                        }
                    }
                    plan.keyIds.append(keyId)
                    held.usagePlans[planId] = plan
                    return key
                }
                return .json(.created, V1.UsagePlanKey(key))
            case .GET:
                let keys = try state.read { held in
                    let plan = try held.usagePlans[planId].orThrow(ControlPlaneError.notFound("Usage Plan"))
                    return plan.keyIds.compactMap { held.apiKeys[$0] }
                }
                return try request.v1Page(keys.map(V1.UsagePlanKey.init))
            default:
                throw ControlPlaneError.missing("keyId")
            }
        }
        let keyId = try request.segment(3, named: "keyId")
        switch request.method {
        case .GET:
            let key = try state.read { held in
                guard let plan = held.usagePlans[planId] else { throw ControlPlaneError.notFound("Usage Plan") }
                guard plan.keyIds.contains(keyId), let key = held.apiKeys[keyId] else { throw ControlPlaneError.notFound("Usage Plan Key") }
                return key
            }
            return .json(.ok, V1.UsagePlanKey(key))
        case .DELETE:
            try state.update { held in
                guard held.usagePlans[planId] != nil else { throw ControlPlaneError.notFound("Usage Plan") }
                guard held.usagePlans[planId]!.keyIds.contains(keyId) else { throw ControlPlaneError.notFound("Usage Plan Key") }
                held.usagePlans[planId]!.keyIds.removeAll { $0 == keyId }
            }
            return LocalResponse(status: .accepted)
        default:
            throw ControlPlaneError.methodNotAllowed
        }
    }

    private static func check(_ throttle: LocalUsagePlan.Throttle?, _ quota: LocalUsagePlan.Quota?) throws {
        if let burst = throttle?.burstLimit, !(0...Int(Int32.max)).contains(burst) {
            throw ControlPlaneError.badRequest("burstLimit must be between 0 and \(Int32.max)")
        }
        if let rate = throttle?.rateLimit, !(rate >= 0 && rate <= LocalRouteSettings.maximumRate) {
            throw ControlPlaneError.badRequest("rateLimit must be between 0 and \(Int(LocalRouteSettings.maximumRate))")
        }
        if let quota {
            guard ["DAY", "WEEK", "MONTH"].contains(quota.period) else {
                throw ControlPlaneError.badRequest("quota period must be DAY, WEEK or MONTH, not \(quota.period)")
            }
            guard quota.limit >= 0 else { throw ControlPlaneError.badRequest("quota limit must not be negative") }
        }
    }
}

/// The `apigateway` (v1) wire shapes the gateway reads and answers.
enum V1 {
    struct APIKeyInput: Decodable {
        var name: String?
        var description: String?
        var enabled: Bool?
        var value: String?
        var customerId: String?
        var tags: [String: String]?
    }

    struct APIKey: Encodable {
        var id: String
        var value: String?
        var name: String?
        var description: String?
        var enabled: Bool
        var customerId: String?
        var createdDate: Double
        var lastUpdatedDate: Double
        var stageKeys: [String] = []
        var tags: [String: String]?

        init(_ key: LocalAPIKey, includeValue: Bool) {
            id = key.id
            value = includeValue ? key.value : nil
            name = key.name
            description = key.description
            enabled = key.enabled
            customerId = key.customerId
            createdDate = key.createdDate.timeIntervalSince1970.rounded()
            lastUpdatedDate = key.lastUpdatedDate.timeIntervalSince1970.rounded()
            tags = key.tags
        }
    }

    struct UsagePlanInput: Decodable {
        var name: String?
        var description: String?
        var apiStages: [LocalUsagePlan.APIStage]?
        var throttle: LocalUsagePlan.Throttle?
        var quota: LocalUsagePlan.Quota?
        var tags: [String: String]?
    }

    struct UsagePlan: Encodable {
        var id: String
        var name: String
        var description: String?
        var apiStages: [LocalUsagePlan.APIStage]
        var throttle: LocalUsagePlan.Throttle?
        var quota: LocalUsagePlan.Quota?
        var tags: [String: String]?

        init(_ plan: LocalUsagePlan) {
            id = plan.id
            name = plan.name
            description = plan.description
            apiStages = plan.apiStages
            throttle = plan.throttle
            quota = plan.quota
            tags = plan.tags
        }
    }

    struct UsagePlanKeyInput: Decodable {
        var keyId: String?
        var keyType: String?
    }

    struct UsagePlanKey: Encodable {
        var id: String
        var type = "API_KEY"
        var value: String
        var name: String?
        init(_ key: LocalAPIKey) {
            id = key.id
            value = key.value
            name = key.name
        }
    }

    struct Patch: Decodable {
        var patchOperations: [Operation]?
    }

    /// One `patchOperations` entry: `{"op": "replace", "path": "/throttle/rateLimit", "value": "10"}`.
    struct Operation: Decodable {
        var op: String
        var path: String
        var value: String?

        func bool() throws -> Bool {
            guard let value, let flag = Bool(value.lowercased()) else { throw ControlPlaneError.badRequest("\(path) takes true or false") }
            return flag
        }

        func number() throws -> Double {
            guard let value, let number = Double(value), number.isFinite, abs(number) <= Double(Int32.max) else {
                throw ControlPlaneError.badRequest("\(path) takes a number up to \(Int32.max)")
            }
            return number
        }

        func apply(to plan: inout LocalUsagePlan, apis: [String: LocalAPI], plans: [String: LocalUsagePlan]) throws {
            switch (op, path) {
            case ("replace", "/name"): plan.name = value ?? plan.name
            case ("replace", "/description"): plan.description = value
            case ("replace", "/throttle/rateLimit"): plan.throttle = .init(burstLimit: plan.throttle?.burstLimit, rateLimit: try number())
            case ("replace", "/throttle/burstLimit"):
                plan.throttle = .init(burstLimit: Int(try number()), rateLimit: plan.throttle?.rateLimit)
            case ("remove", "/throttle"): plan.throttle = nil
            case ("replace", "/quota/limit"):
                plan.quota = .init(limit: Int(try number()), offset: plan.quota?.offset, period: plan.quota?.period ?? "DAY")
            case ("replace", "/quota/period"):
                plan.quota = .init(limit: plan.quota?.limit ?? 0, offset: plan.quota?.offset, period: value ?? "DAY")
            case ("remove", "/quota"): plan.quota = nil
            case ("add", "/apiStages"), ("remove", "/apiStages"):
                let pieces = (value ?? "").split(separator: ":", maxSplits: 1).map(String.init)
                guard pieces.count == 2 else { throw ControlPlaneError.badRequest("/apiStages takes apiId:stage") }
                let stage = LocalUsagePlan.APIStage(apiId: pieces[0], stage: pieces[1])
                if op == "add" {
                    guard apis[stage.apiId]?.stages[stage.stage] != nil else {
                        throw ControlPlaneError.notFound("stage \(stage.apiId):\(stage.stage)")
                    }
                    // A key meters one plan per API stage.
                    for other in plans.values where other.id != plan.id && other.apiStages.contains(stage) {
                        if let shared = other.keyIds.first(where: plan.keyIds.contains) {
                            throw ControlPlaneError.conflict("API Key \(shared) is already in usage plan \(other.id) for \(stage.apiId):\(stage.stage)")
                        }
                    }
                    if !plan.apiStages.contains(stage) { plan.apiStages.append(stage) }
                } else {
                    plan.apiStages.removeAll { $0 == stage }
                }
            default: throw ControlPlaneError.badRequest("Invalid patch operation \(op) \(path)")
            }
        }
    }

    /// A v1 list: `{"item": […], "position": "…"}`.
    struct Page<Item: Encodable>: Encodable {
        var item: [Item]
        var position: String?
    }
}

extension ControlPlaneRequest {
    /// `limit` at a time (at most 500) from the offset in `position`, as v1 pages.
    func v1Page<Item: Encodable>(_ items: [Item]) throws -> LocalResponse {
        var size = 25
        if let text = values("limit").last {
            guard let number = Int(text), (1...500).contains(number) else {
                throw ControlPlaneError.badRequest("limit must be a number from 1 to 500, not \(text)")
            }
            size = number
        }
        var start = 0
        if let token = values("position").last {
            guard let offset = Int(token), (0...items.count).contains(offset) else { throw ControlPlaneError.badRequest("Invalid position \(token)") }
            start = offset
        }
        let slice = Array(items[start..<min(items.count, start + size)])
        return .json(.ok, V1.Page(item: slice, position: start + slice.count < items.count ? String(start + slice.count) : nil))
    }
}
