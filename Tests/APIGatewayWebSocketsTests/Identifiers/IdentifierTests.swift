import APIGatewayWebSockets
import Testing

@Suite struct IdentifierTests {
    @Test(arguments: ["L0SM9cOFvHcCIhw=", "a", "A-z_0=9", String(repeating: "x", count: 128)])
    func validConnectionIDs(_ raw: String) throws {
        #expect(try ConnectionID(raw).rawValue == raw)
    }

    @Test(arguments: ["", "abc def", "abc/def", "abc+def", "é", "abc%3D", String(repeating: "x", count: 129)])
    func invalidConnectionIDs(_ raw: String) {
        #expect(throws: IdentifierError.self) { try ConnectionID(raw) }
    }

    @Test(arguments: ["lobby", "Room_1-a", String(repeating: "c", count: 128)])
    func validChannels(_ raw: String) throws {
        #expect(try ChannelName(raw).rawValue == raw)
    }

    @Test(arguments: ["", "with space", "a=b", "a.b", "ü", String(repeating: "c", count: 129)])
    func invalidChannels(_ raw: String) {
        #expect(throws: IdentifierError.self) { try ChannelName(raw) }
    }

    @Test func reservedRouteKeysAreTheStaticMembers() throws {
        #expect(try RouteKey(String("$connect")) == .connect)
        #expect(try RouteKey(String("$disconnect")) == .disconnect)
        #expect(try RouteKey(String("$default")) == .default)
        #expect(RouteKey.default.isReserved)
        #expect(try !RouteKey(String("sendmessage")).isReserved)
        // Runtime input (a String, not a literal) throws; a literal is checked at once (IdentifierLiteralTests).
        #expect(throws: IdentifierError.self) { try RouteKey(String("$custom")) }
        #expect(throws: IdentifierError.self) { try RouteKey(String("has space")) }
        #expect(throws: IdentifierError.self) { try RouteKey(String("")) }
    }

    @Test func errorsNameTheRule() {
        let error = #expect(throws: IdentifierError.self) { try ChannelName(String("a b")) }
        #expect(error?.description == "invalid channel name 'a b': may only contain A-Z a-z 0-9 _ -")
    }
}
