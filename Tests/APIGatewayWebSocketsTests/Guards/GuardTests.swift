import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import HTTPTypes
import NIOCore
import Testing

/// One test per row of the README's refusal table, in guard order.
@Suite struct GuardTests {
    // 1. Gateway secret.

    @Test func missingSecretIs403() async throws {
        let harness = try Harness()
        let connection = try await harness.connected()
        let response = try await harness.send(connection, body: "{}") { $0[.gatewaySecret] = nil }
        #expect(response.status == .forbidden)
        #expect(response.reason == "Forbidden")
        #expect(harness.poster.posts.isEmpty)
    }

    @Test func wrongSecretIs403AndSecretsRotate() async throws {
        let harness = try Harness(configuration: GatewayConfiguration(secrets: ["old-secret", "new-secret"]))
        let connection = try await harness.connected()
        #expect(try await harness.send(connection, body: "{}") { $0[.gatewaySecret] = "new-secreT" }.status == .forbidden)
        #expect(try await harness.send(connection, body: "{}") { $0[.gatewaySecret] = "new-secret" }.status == .ok)
        #expect(try await harness.send(connection, body: "{}") { $0[.gatewaySecret] = "old-secret" }.status == .ok)
    }

    // 2. Required headers, then a registered API.

    @Test(arguments: [HTTPField.Name.connectionID, .apiGatewayAPIID])
    func alwaysRequiredHeaderMissingIs400(_ name: HTTPField.Name) async throws {
        let harness = try Harness()
        let connection = try await harness.connected()
        let response = try await harness.send(connection, body: "{}") { $0[name] = nil }
        #expect(response.status == .badRequest)
        #expect(response.reason == "Missing required header \(name.rawName)")
    }

    @Test func configuredRequiredHeaderMissingIs400() async throws {
        var configuration = GatewayConfiguration(secrets: ["s3cret"])
        configuration.requiredHeaders.message = [.amznTraceID]
        let harness = try Harness(configuration: configuration)
        let connection = try await harness.connected()
        #expect(try await harness.send(connection, body: "{}") { _ in }.status == .ok)
        let response = try await harness.send(connection, body: "{}") { $0[.amznTraceID] = nil }
        #expect(response.status == .badRequest)
        #expect(response.reason == "Missing required header X-Amzn-Trace-Id")
    }

    @Test(arguments: ["zzz999", "not/valid"])
    func unknownAPIIs400(_ raw: String) async throws {
        let harness = try Harness()
        let connection = try await harness.connected()
        let response = try await harness.send(connection, body: "{}") { $0[.apiGatewayAPIID] = raw }
        #expect(response.status == .badRequest)
        #expect(response.reason == "Unknown API")
    }

    @Test func controllerPinnedToAnotherAPIIs403() async throws {
        let records = [
            GatewayRecord(apiID: apiID, stage: "dev", region: "eu-west-1"),
            GatewayRecord(apiID: otherAPIID, stage: "dev", region: "eu-west-1"),
        ]
        let harness = try Harness(records: records, controllers: [EchoController(pinnedAPI: otherAPIID)])
        let refused = try await harness.gateway.connect()
        #expect(refused.connectResponse.status == .forbidden)
        var other = harness.gateway
        other.apiID = otherAPIID
        #expect(try await other.connect().isAccepted)
    }

    // 3. Body size, then the connection id.

    @Test func bodyOver128KiBIs413AndExactly128KiBPasses() async throws {
        let harness = try Harness()
        let connection = try await harness.connected()
        let limit = 131_072
        let prefix = #"{"handler":"quiet","pad":""#
        let padded = prefix + String(repeating: "a", count: limit - prefix.utf8.count - 2) + #""}"#
        let atLimit = try await connection.send(padded)
        #expect(atLimit.status == .ok)
        let over = try await connection.send(ByteBuffer(repeating: UInt8(ascii: "a"), count: limit + 1))
        #expect(over.status == .contentTooLarge)
        #expect(over.reason == "Message too large")
    }

    @Test(arguments: ["has space", "abc/def", String(repeating: "x", count: 129)])
    func malformedConnectionIDIs400(_ raw: String) async throws {
        let harness = try Harness()
        let connection = try await harness.connected()
        let response = try await harness.send(connection, body: "{}") { $0[.connectionID] = raw }
        #expect(response.status == .badRequest)
        #expect(response.reason == "Invalid connection id")
    }

    // 4. On connect: Origin, then the channel.

    @Test func originOutsideAllowedHostsIs403() async throws {
        let harness = try Harness(
            configuration: GatewayConfiguration(secrets: ["s3cret"], allowedOrigins: ["example.com", ".example.org"]))
        for (origin, accepted) in [
            ("https://example.com", true), ("https://example.com:8443", true), ("https://chat.example.org", true),
            ("https://example.org", true), ("https://evil.com", false), ("https://example.com.evil.com", false),
            ("https://notexample.org", false), ("null", false),
        ] {
            let connection = try await harness.gateway.connect(headers: [.origin: origin])
            #expect(connection.isAccepted == accepted, "\(origin)")
            if !accepted {
                #expect(connection.connectResponse.status == .forbidden)
                #expect(connection.connectResponse.reason == "Origin not allowed")
            }
        }
        // A client that is not a browser sends no Origin; without a cookie login it is not refused
        // (LoginOnConnectTests: with one it is).
        let noOrigin = try await harness.gateway.connect()
        #expect(noOrigin.isAccepted)
    }

    @Test func invalidChannelIs400() async throws {
        let harness = try Harness()
        let connection = try await harness.gateway.connect(query: ["channel": "no spaces allowed"])
        #expect(connection.connectResponse.status == .badRequest)
        #expect(connection.connectResponse.reason == "Invalid channel name")
        #expect(try await harness.store.session(connection.id) == nil)
    }

    @Test func connectHookRejectionPassesItsStatus() async throws {
        let controller = EchoController { context in
            context.queryParameter("token") == "good" ? .accept : .reject(status: .unauthorized, reason: "Bad token")
        }
        let harness = try Harness(controllers: [controller])
        let refused = try await harness.gateway.connect(query: ["token": "bad"])
        #expect(refused.connectResponse.status == .unauthorized)
        #expect(refused.connectResponse.reason == "Bad token")
        #expect(try await harness.store.session(refused.id) == nil)
        #expect(try await harness.gateway.connect(query: ["token": "good"]).isAccepted)
    }

    @Test func connectForADisconnectedIdIs409() async throws {
        let harness = try Harness()
        let connection = try await harness.connected()
        #expect(try await connection.disconnect().status == .ok)
        let again = try await harness.gateway.connect(connectionID: connection.id)
        #expect(again.connectResponse.status == .conflict)
        #expect(again.connectResponse.reason == "Connection already closed")
        #expect(try await harness.store.session(connection.id)?.connected == false)
    }

    // 5. On message: a live session.

    @Test func messageWithoutLiveSessionIs410() async throws {
        let harness = try Harness()
        let connection = try await harness.connected()
        try await connection.disconnect()
        let response = try await connection.send("{}")
        #expect(response.status == .gone)
        #expect(response.reason == "No live connection")
        let stranger = FakeConnection(id: FakeAPIGateway.makeConnectionID(), gateway: harness.gateway, connectResponse: .ok)
        #expect(try await stranger.send("{}").status == .gone)
        #expect(harness.poster.posts.isEmpty)
    }

    @Test func sessionOnAnotherAPIIsNotLive() async throws {
        let records = [GatewayRecord(apiID: apiID, stage: "dev", region: "r"), GatewayRecord(apiID: otherAPIID, stage: "dev", region: "r")]
        let harness = try Harness(records: records)
        let connection = try await harness.connected()
        let response = try await harness.send(connection, body: "{}") { $0[.apiGatewayAPIID] = otherAPIID.rawValue }
        #expect(response.status == .gone)
    }

    // Handlers.

    @Test(arguments: [
        (#"{"handler":"greet"}"#, "Invalid message: missing field 'name'"),
        (#"{"handler":"greet","name":7}"#, "Invalid message: field 'name' is not a string"),
        (#"{"handler":"greet","name":null}"#, "Invalid message: field 'name' is null"),
        (#"{"handler":"nested","inner":{"count":"x"}}"#, "Invalid message: field 'inner.count' is not a number"),
        (#"{"handler":"nested","inner":{}}"#, "Invalid message: missing field 'inner.count'"),
    ])
    func undecodableMessageIs400NamingTheField(_ body: String, _ reason: String) async throws {
        let harness = try Harness()
        let connection = try await harness.connected()
        let response = try await connection.send(body)
        #expect(response.status == .badRequest)
        #expect(response.reason == reason)
        #expect(harness.poster.posts.isEmpty)
    }

    @Test func invalidJSONForATypedDefaultIs400() async throws {
        let harness = try Harness(controllers: [TypedDefaultController()])
        let connection = try await harness.connected()
        let response = try await connection.send(#"{"handler":"greet","#)
        #expect(response.status == .badRequest)
        #expect(response.reason == "Invalid message: body is not valid JSON")
        #expect(try await connection.send(#"{"name":"ada"}"#).status == .ok)
    }

    @Test func unknownHandlerWithoutDefaultIs400() async throws {
        let harness = try Harness(controllers: [EchoController(), StrictController()])
        let connection = try await harness.connected()
        let response = try await connection.send(#"{"action":"strict","handler":"nope"}"#)
        #expect(response.status == .badRequest)
        #expect(response.reason == "Unknown handler")
        #expect(try await connection.send(#"{"action":"strict","handler":"only"}"#).status == .ok)
    }

    @Test func handlerRefusalPassesItsStatusAndOtherErrorsAre500() async throws {
        let harness = try Harness()
        let connection = try await harness.connected()
        let teapot = try await connection.send(#"{"handler":"teapot"}"#)
        #expect(teapot.status.code == 418)
        #expect(teapot.reason == "I'm a teapot")
        let boom = try await connection.send(#"{"handler":"boom"}"#)
        #expect(boom.status == .internalServerError)
        #expect(boom.reason == "Internal server error")
        #expect(!boom.bodyText.contains("fileNoSuchFile"), "the error itself is logged, not shown")
    }

    // A reply over API Gateway's 128 KiB (70,000 `/` are 140 KB once JSON writes `\/`) was a 500
    // with an error-level log: the handler's payload is refused, not a server failure.
    @Test func aReplyTooLargeIs413() async throws {
        let harness = try Harness()
        let connection = try await harness.connected()
        let response = try await connection.send(String(repeating: "/", count: 70_000))
        #expect(response.status == .contentTooLarge)
        #expect(response.reason == "Reply too large")
        #expect(harness.poster.posts.isEmpty)
    }

    @Test func guardsRunInOrder() async throws {
        // A request failing every guard is answered by the first: the secret.
        let harness = try Harness()
        let connection = try await harness.connected()
        let response = try await harness.send(connection, body: String(repeating: "x", count: 200_000)) { fields in
            fields[.gatewaySecret] = "wrong"
            fields[.apiGatewayAPIID] = "unknown"
            fields[.connectionID] = "bad id"
        }
        #expect(response.status == .forbidden)
        let second = try await harness.send(connection, body: String(repeating: "x", count: 200_000)) { fields in
            fields[.apiGatewayAPIID] = "unknown"
            fields[.connectionID] = "bad id"
        }
        #expect(second.status == .badRequest && second.reason == "Unknown API")
        let third = try await harness.send(connection, body: String(repeating: "x", count: 200_000)) { $0[.connectionID] = "bad id" }
        #expect(third.status == .contentTooLarge)
    }
}
