public import APIGatewayWebSockets

/// Route keys as literals, in tests only: a literal that is not a route key traps here, where a
/// typo should.
extension RouteKey: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { try! self.init(value) }
}
