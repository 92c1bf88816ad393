import APIGatewayWebSockets
import HTTPTypes
import Testing

@Suite struct GatewayRequestTests {
    func parameter(_ query: String?, _ name: String = "name") -> String? {
        GatewayRequest(path: "/ws/connect", query: query).queryParameter(name)
    }

    // A stray `%` swallowed the two bytes after it: `100%zz` became `100%`.
    @Test func aStrayPercentKeepsWhatFollowsIt() {
        #expect(parameter("name=100%zz") == "100%zz")
        #expect(parameter("name=100%") == "100%")
        #expect(parameter("name=a%2") == "a%2")
        #expect(parameter("name=%4") == "%4")
        #expect(parameter("name=%zz%41") == "%zzA", "a valid escape after a stray one is still decoded")
    }

    @Test func formsDecodeAsBrowsersWriteThem() {
        #expect(parameter("name=ada+lovelace") == "ada lovelace")
        #expect(parameter("name=a%2Bb") == "a+b")
        #expect(parameter("x=1&name=%C3%A9&name=second") == "é", "the first value counts")
        #expect(parameter("name") == "" && parameter("other=1") == nil && parameter(nil) == nil && parameter("") == nil)
        #expect(parameter("na%6De=ok") == "ok", "names are decoded too")
    }

    // Entries before the last are not API Gateway's (a client may send the header itself).
    @Test func theClientAddressIsTheOneAPIGatewayAppended() {
        func address(_ forwarded: String?) -> String? {
            var fields = HTTPFields()
            if let forwarded { fields[.xForwardedFor] = forwarded }
            return GatewayRequest(path: "/", headerFields: fields).clientAddress
        }
        #expect(address("203.0.113.7") == "203.0.113.7")
        #expect(address("1.2.3.4, 203.0.113.7") == "203.0.113.7")
        #expect(address(nil) == nil && address("") == nil)
    }

    // Behind a load balancer that appends, the last entry was the balancer's view of API Gateway:
    // every client shared one address for the per-address limit.
    @Test func behindTrustedProxiesTheClientIsTheEntryBeforeTheirs() {
        var fields = HTTPFields()
        fields[.xForwardedFor] = "6.6.6.6, 203.0.113.7, 10.0.0.5"  // client-sent, API Gateway's, the balancer's
        let request = GatewayRequest(method: .post, path: "/ws/connect", headerFields: fields)
        #expect(request.clientAddress == "10.0.0.5")
        #expect(request.clientAddress(behindProxies: 1) == "203.0.113.7")
        #expect(request.clientAddress(behindProxies: 3) == nil, "fewer entries than proxies: no address to trust")
    }
}
