import APIGatewayWebSockets
import Foundation
import Synchronization
import Testing

/// Password attempts are limited per name and per address, in the shared store.
@Suite struct LoginThrottleTests {
    @Test func attemptsAreLimitedPerNameAndPerAddress() async throws {
        let store = InMemoryConnectionStore()
        let throttle = LoginThrottle(identity: store, perName: .init(3, per: .seconds(300)), perAddress: .init(5, per: .seconds(300)))
        for _ in 0..<3 { try await throttle.admit(name: "ada", address: "203.0.113.7") }
        let refusal = await #expect(throws: Refusal.self) { try await throttle.admit(name: "Ada", address: "198.51.100.9") }
        #expect(refusal?.status == .tooManyRequests && refusal?.code == .loginThrottled, "a name's budget, whatever its case or address")
        // Two more attempts from the first address at other names fill its budget of 5.
        try await throttle.admit(name: "bob", address: "203.0.113.7")
        try await throttle.admit(name: "cy", address: "203.0.113.7")
        await #expect(throws: Refusal.self) { try await throttle.admit(name: "dee", address: "203.0.113.7") }
        try await throttle.admit(name: "dee", address: "198.51.100.9")
    }

    @Test func attemptsAgeOutOfTheWindow() async throws {
        let store = InMemoryConnectionStore()
        let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let throttle = LoginThrottle(
            identity: store, perName: .init(2, per: .seconds(60)), perAddress: .init(100, per: .seconds(60)),
            now: { clock.withLock { $0 } })
        try await throttle.admit(name: "ada", address: nil)
        try await throttle.admit(name: "ada", address: nil)
        await #expect(throws: Refusal.self) { try await throttle.admit(name: "ada", address: nil) }
        clock.withLock { $0 = $0.addingTimeInterval(61) }
        try await throttle.admit(name: "ada", address: nil)
    }
}
