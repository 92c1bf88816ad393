/// How connections join channels: the policy for channels no rule names, the code hook, the
/// per-connection bound, and whether members hear of each other's comings and goings.
///
/// ```swift
/// configuration.channels = ChannelConfiguration(unlisted: .deny, presenceEvents: true) { join in
///     join.channel.rawValue.hasPrefix("dm-") && join.userID != nil ? .allow : .useRules
/// }
/// ```
public struct ChannelConfiguration: Sendable {
    /// What happens to a channel no ``ChannelRule`` names.
    public struct UnlistedPolicy: Sendable, Hashable, CustomStringConvertible {
        /// Whether a channel no rule names may be joined.
        public let allows: Bool
        /// Anyone may join it (the Python package's behaviour: any `?channel=` works).
        public static let allow = UnlistedPolicy(allows: true)
        /// Nobody may: every channel needs a rule (or the hook's word).
        public static let deny = UnlistedPolicy(allows: false)
        public var description: String { allows ? "allow" : "deny" }
    }

    /// The policy for channels no rule names. The default configuration allows them; say so
    /// explicitly in an app that stores rules.
    public var unlisted: UnlistedPolicy
    /// Most channels one connection may be in at once. Default 16.
    public var maximumPerConnection: Int
    /// When on, a join and a leave (and a member's disconnect) are announced to the channel as
    /// `{"type":"presence","event":"joined"|"left","channel":…,"user":…,"connectionId":…}`.
    public var presenceEvents: Bool
    /// Code that decides before the stored rules: ``ChannelDecision/allow`` or
    /// ``ChannelDecision/deny(_:)`` settle it, ``ChannelDecision/useRules`` defers to them.
    public var canJoin: (@Sendable (ChannelJoin) async throws -> ChannelDecision)?

    public init(
        unlisted: UnlistedPolicy,
        maximumPerConnection: Int = 16,
        presenceEvents: Bool = false,
        canJoin: (@Sendable (ChannelJoin) async throws -> ChannelDecision)? = nil
    ) {
        self.unlisted = unlisted
        self.maximumPerConnection = maximumPerConnection
        self.presenceEvents = presenceEvents
        self.canJoin = canJoin
    }
}

/// A connection asking to join a channel, as the ``ChannelConfiguration/canJoin`` hook sees it.
public struct ChannelJoin: Sendable {
    public let channel: ChannelName
    public let connectionID: ConnectionID
    public let apiID: APIID
    /// The connection's user, when it has one.
    public let userID: String?
}

/// The ``ChannelConfiguration/canJoin`` hook's verdict.
public struct ChannelDecision: Sendable {
    enum Kind: Sendable { case allow, deny(String), useRules }
    let kind: Kind

    /// Join, whatever the rules say.
    public static let allow = ChannelDecision(kind: .allow)
    /// Refuse 403 with `reason` (safe to show the client).
    public static func deny(_ reason: String) -> ChannelDecision { ChannelDecision(kind: .deny(reason)) }
    /// Let the stored rule, or the unlisted policy, decide.
    public static let useRules = ChannelDecision(kind: .useRules)
}
