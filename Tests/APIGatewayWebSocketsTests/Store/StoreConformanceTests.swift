import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Testing

@Suite struct InMemoryStoreConformanceTests {
    @Test(arguments: ConnectionStoreConformance.checks)
    func conformance(_ check: ConnectionStoreConformance.Check) async throws {
        try await check.run(InMemoryConnectionStore())
    }
}

@Suite struct InMemoryIdentityStoreConformanceTests {
    @Test(arguments: IdentityStoreConformance.checks)
    func inMemory(_ check: IdentityStoreConformance.Check) async throws {
        try await check.run(InMemoryConnectionStore())
    }

    @Test(arguments: ChannelRuleStoreConformance.checks)
    func inMemoryChannelRules(_ check: ChannelRuleStoreConformance.Check) async throws {
        try await check.run(InMemoryConnectionStore())
    }
}

@Suite struct InMemoryStreamStoreConformanceTests {
    @Test(arguments: StreamStoreConformance.checks)
    func inMemory(_ check: StreamStoreConformance.Check) async throws {
        try await check.run(InMemoryConnectionStore())
    }
}
