import APIGatewayAWS
import Foundation
import PeerSupport
import Synchronization
import Testing

@testable import APIGatewayLocal

/// The rules behind the guards, one at a time: how an authorizer's answer is read, what the
/// control plane refuses, and what a review found.
@Suite struct GuardRulesTests {
    static let methodArn = "arn:aws:execute-api:us-east-1:000000000000:abc123/dev/$connect"

    func verdict(_ statement: String, context: String = "") -> AuthorizerVerdict {
        AuthorizerCaller.verdict(
            Data(#"{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":\#(statement)}\#(context)}"#.utf8),
            methodArn: Self.methodArn)
    }

    func allowed(_ verdict: AuthorizerVerdict) -> Bool { if case .allow = verdict { true } else { false } }
    func denied(_ verdict: AuthorizerVerdict) -> Bool { if case .deny = verdict { true } else { false } }
    func failed(_ verdict: AuthorizerVerdict) -> Bool { if case .failed = verdict { true } else { false } }

    @Test func anAuthorizersAnswerIsReadAsIAMReadsAPolicy() {
        let allow = #"{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"\#(Self.methodArn)"}"#
        #expect(allowed(verdict("[\(allow)]")))
        // A review found these two refused: IAM action names ignore case, and a lone statement is a statement.
        #expect(allowed(verdict(#"[{"Action":"EXECUTE-API:invoke","Effect":"Allow","Resource":"\#(Self.methodArn)"}]"#)))
        #expect(allowed(verdict(allow)))
        #expect(allowed(verdict(#"[{"Action":["s3:*","execute-api:*"],"Effect":"Allow","Resource":["arn:aws:execute-api:*:*:abc123/*"]}]"#)))
        #expect(denied(verdict(#"[\#(allow),{"Action":"*","Effect":"Deny","Resource":"*"}]"#)), "a Deny wins")
        #expect(denied(verdict(#"[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"arn:aws:execute-api:*:*:other/*"}]"#)))
        #expect(failed(verdict("[\(allow)]", context: #","context":{"a":[1]}"#)), "a context value must be a scalar")
        #expect(failed(verdict(#"[{"Effect":"allow","Action":"*","Resource":"*"}]"#)), "Effect is Allow or Deny")
        let stringified = verdict("[\(allow)]", context: #","context":{"n":42,"b":true,"s":"x"}"#)
        if case .allow(let identity) = stringified {
            #expect(identity.authorizerContext == ["n": "42", "b": "true", "s": "x"] && identity.principalId == "u")
        } else {
            Issue.record("not allowed: \(stringified)")
        }
        #expect(AuthorizerCaller.glob("a*c?e", matches: "abbbcde") && !AuthorizerCaller.glob("a*c", matches: "abd"))
    }

    /// An `Unauthorized` is not cached: random tokens cannot fill the cache; an allow is, under a
    /// key whose size does not depend on the token.
    @Test func onlyAllowsAndDeniesAreCached() {
        #expect(!AuthorizerVerdict.unauthorized.isKept && !AuthorizerVerdict.failed("x").isKept && AuthorizerVerdict.deny.isKept)
        let long = AuthorizerCache.Key(authorizerId: "a", identity: [String(repeating: "t", count: 8000)], methodArn: Self.methodArn)
        #expect(long.digest.count == 64)
    }

    /// Distinct identities past the cache's capacity push the oldest out; the newest is kept.
    @Test func theAuthorizerCacheIsBounded() {
        let cache = AuthorizerCache()
        let until = Date().addingTimeInterval(300)
        let now = Date()
        func key(_ n: Int) -> AuthorizerCache.Key { .init(authorizerId: "a", identity: ["token-\(n)"], methodArn: Self.methodArn) }
        for n in 0..<(AuthorizerCache.capacity + 50) { cache.store(.deny, for: key(n), until: until) }
        #expect(cache.count == AuthorizerCache.capacity)
        #expect(cache.answer(for: key(AuthorizerCache.capacity + 49), at: now) != nil, "the newest answer is kept")
        cache.store(.deny, for: key(AuthorizerCache.capacity + 49), until: until)
        #expect(cache.count == AuthorizerCache.capacity, "storing a kept key again evicts nothing")
    }

    /// A destination that blocks (a FIFO nobody reads) holds up only the writer's queue: writes
    /// return at once, lines past the limit are dropped and counted, and once a reader comes the
    /// lines that waited come out, in order.
    @Test func anAccessLogThatCannotWriteDropsPastItsLimit() async throws {
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UUID().uuidString).fifo").path
        try #require(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        let writer = AccessLogWriter(destination: .file(fifo))
        let extra = 25
        for n in 0..<(AccessLogWriter.pendingLimit + extra) { writer.write("line \(n)") }  // would hang if a write blocked
        #expect(writer.dropped == extra)

        let lines = Mutex<[Substring]>([])
        let reading = Thread {
            guard let handle = FileHandle(forReadingAtPath: fifo) else { return }
            var rest = Data()
            while lines.withLock({ $0.count }) < AccessLogWriter.pendingLimit {
                let chunk = handle.availableData
                if chunk.isEmpty { return }
                rest.append(chunk)
                let text = String(decoding: rest, as: UTF8.self)
                guard let end = text.lastIndex(of: "\n") else { continue }
                lines.withLock { $0 += text[..<end].split(separator: "\n") }
                rest = Data(text[text.index(after: end)...].utf8)
            }
        }
        reading.start()
        #expect(await eventually(timeout: .seconds(30)) { lines.withLock { $0.count } == AccessLogWriter.pendingLimit })
        let read = lines.withLock { $0 }
        #expect(read.first == "line 0" && read.last == "line \(AccessLogWriter.pendingLimit - 1)")
    }

    // A usage plan's rate of 1e300, or a burst of 1e19 by PATCH, was accepted and then trapped
    // the process converting it to an Int (a review found it).
    @Test func numbersPastWhatAThrottleTakesAreRefused400() async throws {
        let rig = try await Rig.start()
        let signed = SignedRequests(port: rig.gateway.port!)
        let huge = try await signed.send(
            "POST", "/usageplans", body: Array(#"{"name":"p","apiStages":[{"apiId":"abc123","stage":"dev"}],"throttle":{"rateLimit":1e300}}"#.utf8))
        #expect(huge.status == 400, "\(huge.body)")
        let plan = try await signed.send("POST", "/usageplans", body: Array(#"{"name":"p","apiStages":[{"apiId":"abc123","stage":"dev"}]}"#.utf8))
        #expect(plan.status == 201)
        let id = try #require((try JSONSerialization.jsonObject(with: Data(plan.body.utf8)) as? [String: Any])?["id"] as? String)
        let patched = try await signed.send(
            "PATCH", "/usageplans/\(id)",
            body: Array(#"{"patchOperations":[{"op":"replace","path":"/throttle/burstLimit","value":"1e19"}]}"#.utf8))
        #expect(patched.status == 400, "\(patched.body)")
        let stage = try await signed.send(
            "PATCH", "/v2/apis/abc123/stages/dev", body: Array(#"{"defaultRouteSettings":{"throttlingBurstLimit":5,"throttlingRateLimit":1e300}}"#.utf8))
        #expect(stage.status == 400, "\(stage.body)")
        #expect(try await signed.send("GET", "/v2/apis").status == 200, "still serving")
        try await rig.stop()
    }

    // A key could end up metered by two plans for one stage through a PATCH adding the stage,
    // and which plan counted it depended on a dictionary's order (a review found it).
    @Test func aKeyIsMeteredByOnePlanPerStage() async throws {
        let rig = try await Rig.start()
        try rig.gateway.state.update { held in
            held.apis["abc123"]!.stages["prod"] = LocalStage(stageName: "prod")
            held.apiKeys["k"] = LocalAPIKey(id: "k", value: "key-0123456789abcdefgh", name: nil)
            held.usagePlans["a"] = LocalUsagePlan(id: "a", name: "a", apiStages: [.init(apiId: "abc123", stage: "dev")], keyIds: ["k"])
            held.usagePlans["b"] = LocalUsagePlan(id: "b", name: "b", apiStages: [.init(apiId: "abc123", stage: "prod")], keyIds: ["k"])
        }
        let overlap = try await SignedRequests(port: rig.gateway.port!).send(
            "PATCH", "/usageplans/a", body: Array(#"{"patchOperations":[{"op":"add","path":"/apiStages","value":"abc123:prod"}]}"#.utf8))
        #expect(overlap.status == 409, "\(overlap.body)")
        try await rig.stop()
    }
}
