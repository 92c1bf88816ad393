import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Foundation
import Testing

/// One-time tokens and connect rate limits through the dispatcher's `$connect`.
@Suite struct ConnectIdentityTests {
    @Test func aTokenConnectsItsUserOnceAndOnlyOnce() async throws {
        let harness = try Harness()
        let tokens = ConnectionTokens(store: harness.store)
        let issued = try await tokens.issue(userID: "ada", webSessionID: "web-session-1")
        #expect(issued.token.count == 43 && !issued.token.contains("="), "32 bytes, base64url: \(issued.token)")
        let connection = try await harness.connected(query: ["ws_token": issued.token])
        #expect(try await harness.store.session(connection.id)?.userID == "ada")
        // Used once: the same token is refused, and so is one nobody issued.
        for token in [issued.token, "not-a-token"] {
            let refused = try await harness.gateway.connect(query: ["ws_token": token])
            #expect(refused.connectResponse.status == .unauthorized && refused.connectResponse.reason == "Invalid or expired token")
        }
    }

    @Test func anExpiredTokenIsRefused() async throws {
        let harness = try Harness()
        let issued = try await ConnectionTokens(store: harness.store).issue(
            userID: "ada", webSessionID: "w", now: Date().addingTimeInterval(-61))
        let refused = try await harness.gateway.connect(query: ["ws_token": issued.token])
        #expect(refused.connectResponse.status == .unauthorized)
    }

    @Test func fiftyConcurrentConnectsWithOneTokenAdmitExactlyOne() async throws {
        let harness = try Harness()
        let issued = try await ConnectionTokens(store: harness.store).issue(userID: "ada", webSessionID: "w")
        let accepted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<50 { group.addTask { try await harness.gateway.connect(query: ["ws_token": issued.token]).isAccepted } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(accepted == 1)
    }

    @Test func tokensArelimitedPerUserPerMinute() async throws {
        let harness = try Harness()
        let tokens = ConnectionTokens(store: harness.store, perUserPerMinute: 2)
        _ = try await tokens.issue(userID: "ada", webSessionID: "w")
        _ = try await tokens.issue(userID: "ada", webSessionID: "w")
        let refusal = await #expect(throws: Refusal.self) { try await tokens.issue(userID: "ada", webSessionID: "w") }
        #expect(refusal?.status == .tooManyRequests && refusal?.code == .tooManyTokens)
        _ = try await tokens.issue(userID: "bob", webSessionID: "w2")  // another user is apart
    }

    @Test func connectsPerAddressAreLimitedBeforeAnythingElse() async throws {
        var configuration = GatewayConfiguration(secrets: ["s3cret"])
        configuration.connectRateLimits.perAddress = .init(3, per: .seconds(60))
        var harness = try Harness(configuration: configuration)
        for _ in 0..<3 { _ = try await harness.connected() }
        let fourth = try await harness.gateway.connect()
        #expect(fourth.connectResponse.status == .tooManyRequests && fourth.connectResponse.reason == "Too many connections")
        // Counted before the token: a client guessing tokens is limited too, and uses none.
        let issued = try await ConnectionTokens(store: harness.store).issue(userID: "ada", webSessionID: "w")
        #expect(try await harness.gateway.connect(query: ["ws_token": issued.token]).connectResponse.status == .tooManyRequests)
        harness.gateway.sourceIP = "198.51.100.9"
        let other = try await harness.connected(query: ["ws_token": issued.token])
        #expect(try await harness.store.session(other.id)?.userID == "ada", "another address, and the token was not spent")
    }

    // The address was counted before the Origin check: handshakes a foreign page opened from a
    // visitor's browser (each refused 403) spent the budget of everyone behind that address.
    @Test func aForeignOriginIsRefusedBeforeItCountsAgainstTheAddress() async throws {
        var configuration = GatewayConfiguration(secrets: ["s3cret"], allowedOrigins: ["https://chat.example.com"])
        configuration.connectRateLimits.perAddress = .init(2, per: .seconds(60))
        let harness = try Harness(configuration: configuration)
        for _ in 0..<10 {
            let foreign = try await harness.gateway.connect(headers: [.origin: "https://evil.example"])
            #expect(foreign.connectResponse.status == .forbidden)
        }
        for _ in 0..<2 {
            #expect(try await harness.gateway.connect(headers: [.origin: "https://chat.example.com"]).isAccepted, "the budget is whole")
        }
        #expect(
            try await harness.gateway.connect(headers: [.origin: "https://chat.example.com"]).connectResponse.status == .tooManyRequests)
    }

    // One subscriber holds a whole /64: keyed on the full address, rotating through it passed any limit.
    @Test func anIPv6ClientCountsUnderItsSlash64() async throws {
        var configuration = GatewayConfiguration(secrets: ["s3cret"])
        configuration.connectRateLimits.perAddress = .init(3, per: .seconds(60))
        var harness = try Harness(configuration: configuration)
        for host in 1...3 {
            harness.gateway.sourceIP = "2001:db8:1:2::\(host)"
            _ = try await harness.connected()
        }
        harness.gateway.sourceIP = "2001:db8:1:2:aaaa:bbbb:cccc:dddd"
        #expect(try await harness.gateway.connect().connectResponse.status == .tooManyRequests, "a fourth address of the same /64")
        harness.gateway.sourceIP = "2001:db8:1:3::1"
        #expect(try await harness.gateway.connect().isAccepted, "the next /64 is another client")
    }

    // A token fetched before logout opened a socket no logout closed: it carried the destroyed web
    // session's hash, and lived up to two hours.
    @Test func loggingOutRevokesTheLoginsUnusedTokens() async throws {
        let harness = try Harness()
        let tokens = ConnectionTokens(store: harness.store)
        let fetched = try await tokens.issue(userID: "ada", webSessionID: "login-1")
        let other = try await tokens.issue(userID: "ada", webSessionID: "login-2")
        _ = try await harness.dispatcher.closeConnections(ofWebSession: "login-1")
        let refused = try await harness.gateway.connect(query: ["ws_token": fetched.token])
        #expect(refused.connectResponse.status == .unauthorized, "the logged-out login's token opens nothing")
        #expect(try await harness.gateway.connect(query: ["ws_token": other.token]).isAccepted, "another login's token still works")
    }

    // Behind a balancer that appends to X-Forwarded-For, every client had the balancer's address.
    @Test func behindTrustedProxiesEachClientHasItsOwnLimit() async throws {
        var configuration = GatewayConfiguration(secrets: ["s3cret"])
        configuration.connectRateLimits.perAddress = .init(1, per: .seconds(60))
        configuration.trustedProxies = 1
        var harness = try Harness(configuration: configuration)
        harness.gateway.sourceIP = "203.0.113.7, 10.0.0.5"
        _ = try await harness.connected()
        harness.gateway.sourceIP = "198.51.100.9, 10.0.0.5"
        _ = try await harness.connected()
        harness.gateway.sourceIP = "203.0.113.7, 10.0.0.5"
        #expect(try await harness.gateway.connect().connectResponse.status == .tooManyRequests, "the first client's second connect")
    }

    @Test func connectsPerUserAreLimitedOnceTheUserIsKnown() async throws {
        var configuration = GatewayConfiguration(secrets: ["s3cret"])
        configuration.connectRateLimits.perUser = .init(2, per: .seconds(60))
        let named = EchoController(connectDecision: { context in .accept(userID: context.queryParameter("user")) })
        let harness = try Harness(configuration: configuration, controllers: [named])
        _ = try await harness.connected(query: ["user": "ada"])
        _ = try await harness.connected(query: ["user": "ada"])
        #expect(try await harness.gateway.connect(query: ["user": "ada"]).connectResponse.status == .tooManyRequests)
        _ = try await harness.connected(query: ["user": "bob"])
        _ = try await harness.connected()  // no user, no per-user limit
    }

    @Test func loggingOutClosesThatLoginsConnectionsOnly() async throws {
        let harness = try Harness()
        let tokens = ConnectionTokens(store: harness.store)
        var mine: [FakeConnection] = []
        for _ in 0..<3 {
            let issued = try await tokens.issue(userID: "ada", webSessionID: "login-1")
            mine.append(try await harness.connected(query: ["ws_token": issued.token]))
        }
        harness.poster.markGone(mine[2].id)  // API Gateway already dropped this one
        let elsewhere = try await harness.connected(query: [
            "ws_token": try await tokens.issue(userID: "ada", webSessionID: "login-2").token
        ])
        #expect(try await harness.dispatcher.closeConnections(ofWebSession: "login-1") == 3)
        #expect(Set(harness.poster.closed) == [mine[0].id, mine[1].id], "closed through @connections DELETE")
        #expect(try await harness.store.session(mine[2].id)?.connected == false, "a gone one is marked at once")
        // The closed ones are marked by the $disconnect API Gateway then sends, as any close.
        #expect(try await harness.store.session(mine[0].id)?.connected == true)
        for connection in mine.prefix(2) { try await connection.disconnect() }
        #expect(try await harness.store.session(mine[0].id)?.connected == false)
        #expect(try await harness.store.session(elsewhere.id)?.connected == true, "another login of the same user stays")
        #expect(try await harness.dispatcher.closeConnections(ofWebSession: "") == 0, "no web session names no login")
    }

    // A password change or a deactivation: every socket of the user goes, on every login.
    @Test func aChangedUserLosesEveryConnection() async throws {
        let named = EchoController(connectDecision: { context in .accept(userID: context.queryParameter("user")) })
        let harness = try Harness(controllers: [named])
        let ada = [try await harness.connected(query: ["user": "ada"]), try await harness.connected(query: ["user": "ada"])]
        let bob = try await harness.connected(query: ["user": "bob"])
        #expect(try await harness.dispatcher.closeConnections(ofUser: "ada") == 2)
        #expect(Set(harness.poster.closed) == Set(ada.map(\.id)))
        #expect(try await harness.store.session(bob.id)?.connected == true)
    }

    // The token was used before later checks, so a connect refused for another reason (429, the
    // hook) spent it, and the client's retry got 401.
    @Test func aRefusedConnectDoesNotSpendItsToken() async throws {
        var configuration = GatewayConfiguration(secrets: ["s3cret"])
        configuration.connectRateLimits.perUser = .init(1, per: .seconds(60))
        let picky = EchoController(connectDecision: { context in
            context.queryParameter("refuse") == nil ? .accept : .reject(status: .forbidden, reason: "Not today")
        })
        let harness = try Harness(configuration: configuration, controllers: [picky])
        let tokens = ConnectionTokens(store: harness.store)
        let issued = try await tokens.issue(userID: "ada", webSessionID: "w")
        #expect(try await harness.gateway.connect(query: ["ws_token": issued.token, "refuse": "1"]).connectResponse.status == .forbidden)
        _ = try await harness.connected(query: ["ws_token": try await tokens.issue(userID: "ada", webSessionID: "w").token])
        #expect(try await harness.gateway.connect(query: ["ws_token": issued.token]).connectResponse.status == .tooManyRequests)
        let token = try #require(try await harness.store.token(hash: ConnectionTokens.hash(issued.token), at: Date()))
        #expect(token.userID == "ada", "refused twice for other reasons, the token is still unused")
    }

    @Test func concurrentTokenRequestsCannotOverrunTheLimit() async throws {
        let harness = try Harness()
        let tokens = ConnectionTokens(store: harness.store, perUserPerMinute: 10)
        let issued = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 { group.addTask { (try? await tokens.issue(userID: "ada", webSessionID: "w")) != nil } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(issued == 10)
    }
}
