public import Foundation
import Logging

/// Joins, leaves and presence, with the rules applied: what ``MessageContext`` and the built-in
/// channel handlers use, and what an app uses outside an event (an admin screen, a job).
///
/// A join passes, in order: the ``ChannelConfiguration/canJoin`` hook, then the stored
/// ``ChannelRule`` for the channel, then the unlisted policy. Membership lives in the store, so
/// every instance sees the same members; members whose connection is gone drop out of every
/// audience and count at once, and their rows go with the session's.
public struct Channels: Sendable {
    public let configuration: ChannelConfiguration
    public let store: any ConnectionStore
    /// The stored rules; `nil`: no channel has one.
    public let rules: (any ChannelRuleStore)?
    let permissions: (any PermissionSource)?
    let gateways: any GatewayDirectory
    let messenger: Messenger

    init(
        configuration: ChannelConfiguration, store: any ConnectionStore, rules: (any ChannelRuleStore)?,
        permissions: (any PermissionSource)?, gateways: any GatewayDirectory, messenger: Messenger
    ) {
        self.configuration = configuration
        self.store = store
        self.rules = rules
        self.permissions = permissions
        self.gateways = gateways
        self.messenger = messenger
    }

    /// Refuses unless the connection may join `channel`: 401 when a rule needs a user and there
    /// is none, 403 when the user does not meet it, the hook denies, or no rule names the channel
    /// under the deny policy.
    public func check(_ channel: ChannelName, connection id: ConnectionID, apiID: APIID, userID: String?) async throws {
        if let canJoin = configuration.canJoin {
            switch try await canJoin(ChannelJoin(channel: channel, connectionID: id, apiID: apiID, userID: userID)).kind {
            case .allow: return
            case .deny(let reason): throw Refusal.channelDenied(channel, reason: reason, detail: "the canJoin hook denied it")
            case .useRules: break
            }
        }
        if let rule = try await rules?.channelRule(for: channel) {
            try await rule.access.requirement?.check(userID, source: permissions, what: "channel \(channel)")
            return
        }
        guard configuration.unlisted.allows else {
            throw Refusal.channelDenied(channel, reason: "Channel not open", detail: "no rule names it and unlisted channels are denied")
        }
    }

    /// Adds `session` to `channel` once the rules allow it, announcing it when presence events are
    /// on. Answers ``JoinOutcome/joined`` or ``JoinOutcome/alreadyMember``; throws a ``Refusal``
    /// when the rules refuse, when the connection is in too many channels, or when it is gone.
    @discardableResult
    public func join(_ channel: ChannelName, session: Session) async throws -> JoinOutcome {
        try await check(channel, connection: session.connectionID, apiID: session.apiID, userID: session.userID)
        return try await add(session, to: channel)
    }

    /// Adds without the rules: for a channel the app's code chose.
    func add(_ session: Session, to channel: ChannelName) async throws -> JoinOutcome {
        let outcome = try await store.join(
            channel, connection: session.connectionID, apiID: session.apiID, limit: configuration.maximumPerConnection,
            at: messenger.now())
        switch outcome {
        case .joined: await announce(.joined, session, in: [channel])
        case .full: throw Refusal.tooManyChannels(configuration.maximumPerConnection)
        case .notConnected: throw Refusal.noLiveSession(session.connectionID, apiID: session.apiID)
        default: break
        }
        return outcome
    }

    /// Removes `session` from `channel`. Returns whether it was a member.
    @discardableResult
    public func leave(_ channel: ChannelName, session: Session) async throws -> Bool {
        let left = try await store.leave(channel, connection: session.connectionID, apiID: session.apiID)
        if left { await announce(.left, session, in: [channel]) }
        return left
    }

    /// Moves `session` out of every other channel and into `channel`, checking the rules first so
    /// a refused move leaves it where it was. Already in `channel`, it stays (and is not announced
    /// again).
    @discardableResult
    public func change(to channel: ChannelName, session: Session) async throws -> JoinOutcome {
        try await check(channel, connection: session.connectionID, apiID: session.apiID, userID: session.userID)
        var left: [ChannelName] = []
        for other in try await store.channels(of: session.connectionID, apiID: session.apiID) where other != channel {
            if try await store.leave(other, connection: session.connectionID, apiID: session.apiID) { left.append(other) }
        }
        await announce(.left, session, in: left)
        return try await add(session, to: channel)
    }

    /// The channels `id` is in, by name.
    public func channels(of id: ConnectionID, apiID: APIID) async throws -> [ChannelName] {
        try await store.channels(of: id, apiID: apiID)
    }

    /// Up to `limit` live members of `channel`, in connection id order after `after`.
    public func members(of channel: ChannelName, apiID: APIID, after: ConnectionID? = nil, limit: Int = 100) async throws
        -> [ChannelMember]
    {
        try await store.members(of: channel, apiID: apiID, after: after, limit: limit)
    }

    /// Up to `limit` distinct users among `channel`'s live members, by name.
    public func users(in channel: ChannelName, apiID: APIID, limit: Int = 500) async throws -> [String] {
        try await store.users(in: channel, apiID: apiID, limit: limit)
    }

    /// The live connections and distinct users in `channel`.
    public func count(of channel: ChannelName, apiID: APIID) async throws -> ChannelCount {
        try await store.count(of: channel, apiID: apiID)
    }

    /// Announces a gone connection's departure from its channels (the `$disconnect` path).
    func announceDeparture(of session: Session) async {
        guard configuration.presenceEvents else { return }
        do {
            await announce(.left, session, in: try await store.channels(of: session.connectionID, apiID: session.apiID))
        } catch {
            messenger.logger.warning("presence: the channels of a gone connection could not be read", metadata: ["apigw.error": "\(error)"])
        }
    }

    private enum Change: String { case joined, left }

    private struct PresenceEvent: Encodable {
        let type = "presence"
        let event: String
        let channel: ChannelName
        let user: String?
        let connectionId: ConnectionID
    }

    /// Best effort: the change it announces has happened whatever becomes of the announcement, so
    /// a failure is logged, never thrown.
    private func announce(_ change: Change, _ session: Session, in channels: [ChannelName]) async {
        guard configuration.presenceEvents, !channels.isEmpty else { return }
        for channel in channels {
            do {
                guard let gateway = try await gateways.gateway(session.apiID) else { return }
                let event = PresenceEvent(
                    event: change.rawValue, channel: channel, user: session.userID, connectionId: session.connectionID)
                let report = try await messenger.send(try Payload(json: event), to: .channel(channel), on: gateway)
                if report.failedCount > 0 {
                    messenger.logger.debug("presence event not delivered to all", metadata: ["apigw.channel": "\(channel)"])
                }
            } catch {
                messenger.logger.warning("presence event not sent", metadata: ["apigw.channel": "\(channel)", "apigw.error": "\(error)"])
            }
        }
    }
}
