// Ids that are constants in code read as literals, as Hummingbird's `RouterPath` does:
// `let notifications: RouteKey = "notifications"`. A literal is checked like any other value, and
// one that breaks the rules stops the program at once with the rule it broke (it is a bug in the
// code, never input); input from outside stays with the throwing `init(_:)`.

extension RouteKey: ExpressibleByStringLiteral {
    /// A route key written in code. An invalid one traps with the rule it broke.
    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("\(error)") }
    }
}

extension ChannelName: ExpressibleByStringLiteral {
    /// A channel name written in code. An invalid one traps with the rule it broke.
    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("\(error)") }
    }
}

extension APIID: ExpressibleByStringLiteral {
    /// An API id written in code. An invalid one traps with the rule it broke.
    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("\(error)") }
    }
}
