/// A command used wrongly: a missing option, an unknown format. Printed as `Error: …` with exit
/// status 1, like every command error.
public struct GatewayCommandError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case noWebSocketGateway
        case noIdentityStore
        case noChannelRuleStore
        case noGatewayRecords
        case missing(option: String, command: String, why: String?)
        case unknownFormat(String, command: String, allowed: [String])
        case badTag(String)
        case invalid(option: String, reason: String)
        case notConfirmed(deletions: Int)
    }

    private let kind: Kind

    package static func noWebSocketGateway() -> Self { Self(kind: .noWebSocketGateway) }

    package static func noIdentityStore() -> Self { Self(kind: .noIdentityStore) }

    package static func noChannelRuleStore() -> Self { Self(kind: .noChannelRuleStore) }

    package static func noGatewayRecords() -> Self { Self(kind: .noGatewayRecords) }

    package static func missing(_ option: String, for command: String, _ why: String? = nil) -> Self {
        Self(kind: .missing(option: option, command: command, why: why))
    }

    package static func unknownFormat(_ format: String, for command: String, allowed: [String]) -> Self {
        Self(kind: .unknownFormat(format, command: command, allowed: allowed))
    }

    package static func badTag(_ pair: Substring) -> Self { Self(kind: .badTag(String(pair))) }

    package static func notConfirmed(deletions: Int) -> Self { Self(kind: .notConfirmed(deletions: deletions)) }

    package static func invalid(_ option: String, _ error: any Error) -> Self { Self(kind: .invalid(option: option, reason: "\(error)")) }

    package static func invalid(_ option: String, reason: String) -> Self { Self(kind: .invalid(option: option, reason: reason)) }

    public var description: String {
        switch kind {
        case .noWebSocketGateway: "the app has no WebSocketGateway: create one before running `gateway` or `sessions`"
        case .noIdentityStore: "the gateway's store keeps no tokens or rate-limit hits (it is not an IdentityStore)"
        case .noChannelRuleStore: "the gateway has no store for channel rules (its store is not a ChannelRuleStore)"
        case .noGatewayRecords: "the gateway's directory does not load records (it is not a CachedGatewayDirectory), so there is no API to publish through"
        case .missing(let option, let command, let why): "\(command) needs \(option)" + (why.map { ": \($0)" } ?? "")
        case .unknownFormat(let format, let command, let allowed):
            "unknown --format \(format) for \(command): \(allowed.joined(separator: ", "))"
        case .badTag(let pair): "--tags: '\(pair)' is not key=value"
        case .invalid(let option, let reason): "\(option): \(reason)"
        case .notConfirmed(let deletions):
            "nothing applied: the plan deletes \(deletions) route(s) and was not confirmed (answer 'yes', or pass --yes)"
        }
    }
}
