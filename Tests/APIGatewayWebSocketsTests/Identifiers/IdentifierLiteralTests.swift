import APIGatewayWebSockets
import Testing

/// Ids written in code are literals, checked like any other value.
@Suite struct IdentifierLiteralTests {
    @Test func literalsAreTheValidatedValues() throws {
        let notifications: RouteKey = "notifications"
        #expect(notifications == (try RouteKey(String("notifications"))))
        let reserved: RouteKey = "$default"
        #expect(reserved == .default && reserved.isReserved)
        let lobby: ChannelName = "lobby"
        #expect(lobby.rawValue == "lobby")
        let api: APIID = "abc123defg"
        #expect(api == (try APIID(String("abc123defg"))))
    }

    @Test func anInvalidLiteralStopsTheProgram() async {
        await #expect(processExitsWith: .failure) {
            let bad: ChannelName = "not a channel!"
            _ = bad
        }
    }
}
