import APIGatewayAWS
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PeerSupport
import ServiceLifecycle
import Synchronization
import Testing

@testable import APIGatewayLocal

/// The SigV4 checks of @connections and the control plane: time, scope, comparison.
@Suite(.serialized) struct SigV4VerifierTests {

    // No skew window: a request signed in 2001 was accepted.
    @Test func signaturesOutsideFifteenMinutesAreExpired() async throws {
        let rig = try await Rig.start()
        let requests = SignedRequests(port: rig.gateway.port!)
        let old = try await requests.send("GET", "/v2/apis", date: Date(timeIntervalSince1970: 1_000_000_000))
        #expect(old.status == 403 && old.body.contains("Signature expired"), "\(old.body)")
        let ahead = try await requests.send("GET", "/v2/apis", date: Date() + 16 * 60)
        #expect(ahead.status == 403)
        let slightlyOff = try await requests.send("GET", "/v2/apis", date: Date() - 10 * 60)
        #expect(slightlyOff.status == 200)
        try await rig.stop()
    }

    // The scope's region was never compared.
    @Test func theScopeMustNameTheGatewaysRegion() async throws {
        let rig = try await Rig.start()
        let answer = try await SignedRequests(port: rig.gateway.port!).send("GET", "/v2/apis", scopeRegion: "eu-west-1")
        #expect(answer.status == 403 && answer.body.contains("region"), "\(answer.body)")
        try await rig.stop()
    }

    @Test func scopeRules() {
        let verifier = SigV4Verifier(credentials: [LocalGatewayConfiguration.developmentCredential], region: "us-east-1")
        var headers = HTTPHeadersBuilder.signed(region: "us-east-1")
        headers.replaceOrAdd(
            name: "Authorization",
            value: headers.first(name: "Authorization")!.replacingOccurrences(of: "aws4_request", with: "aws5_request"))
        let refusal = verifier.problem(method: "GET", uri: "/v2/apis", headers: headers, body: [UInt8](), service: "apigateway")
        #expect(refusal?.message.contains("aws4_request") == true)
        let good = HTTPHeadersBuilder.signed(region: "us-east-1")
        #expect(verifier.problem(method: "GET", uri: "/v2/apis", headers: good, body: [UInt8](), service: "apigateway") == nil)
        #expect(verifier.problem(method: "GET", uri: "/v2/apis", headers: good, body: [UInt8](), service: "execute-api") != nil)
    }
}
