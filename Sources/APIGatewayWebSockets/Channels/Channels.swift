import Foundation
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
    /// The clock joins are stamped with: the dispatcher's.
    let now: @Sendable () -> Date

    init(
        configuration: ChannelConfiguration, store: any ConnectionStore, rules: (any ChannelRuleStore)?,
        permissions: (any PermissionSource)?, gateways: any GatewayDirectory, messenger: Messenger, now: @escaping @Sendable () -> Date
    ) {
        self.now = now
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
            at: now())
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

    // MARK: Rules

    /// Saves `rule` (replacing the channel's old one) and removes the channel's current members
    /// who may no longer join under it; see ``recheckMembers(of:)``. Returns how many were removed.
    /// - Throws: ``ChannelsError/noRuleStore`` when the store keeps no rules.
    @discardableResult
    public func saveRule(_ rule: ChannelRule) async throws -> Int {
        guard let rules else { throw ChannelsError.noRuleStore }
        try await rules.saveChannelRule(rule)
        return try await recheckMembers(of: rule.channel)
    }

    /// Removes the rule for `channel` (the unlisted policy applies from then on) and removes the
    /// members that policy refuses. Returns whether there was a rule and how many members were removed.
    /// - Throws: ``ChannelsError/noRuleStore`` when the store keeps no rules.
    public func removeRule(for channel: ChannelName) async throws -> (existed: Bool, removedMembers: Int) {
        guard let rules else { throw ChannelsError.noRuleStore }
        let existed = try await rules.deleteChannelRule(for: channel)
        return (existed, existed ? try await recheckMembers(of: channel) : 0)
    }

    /// Checks every live member of `channel` (on every API) against the rules as they are now and
    /// removes those who may no longer join: each hears `{"type":"removed","channel":…,"reason":…}`,
    /// and the channel a `left` presence event when presence events are on. Membership is in the
    /// shared store, so one call covers the connections of every instance. The rule doors (the
    /// `channels` commands, the admin, ``saveRule(_:)``) call it after every change.
    /// Returns how many were removed.
    @discardableResult
    public func recheckMembers(of channel: ChannelName) async throws -> Int {
        var removed = 0
        var after: ConnectionID?
        let page = 500
        while true {
            let members = try await store.sessions(SessionFilter(channel: channel, connected: true), after: after, limit: page)
            for member in members {
                do {
                    try await check(channel, connection: member.connectionID, apiID: member.apiID, userID: member.userID)
                } catch let refusal as Refusal {
                    guard try await store.leave(channel, connection: member.connectionID, apiID: member.apiID) else { continue }
                    removed += 1
                    await tellRemoved(member, from: channel, reason: refusal.reason)
                    await announce(.left, member, in: [channel])
                }
            }
            guard members.count == page, let last = members.last else { break }
            after = last.connectionID
        }
        if removed > 0 {
            messenger.logger.info(
                "channel rule change removed members", metadata: ["apigw.channel": "\(channel)", "apigw.removed": "\(removed)"])
        }
        return removed
    }

    private struct RemovedEvent: Encodable {
        let type = "removed"
        let channel: ChannelName
        let reason: String
    }

    /// Best effort, like presence: the member is out of the channel whether or not it hears so.
    private func tellRemoved(_ session: Session, from channel: ChannelName, reason: String) async {
        do {
            guard let gateway = try await gateways.gateway(session.apiID) else { return }
            _ = try await messenger.send(
                try Payload(json: RemovedEvent(channel: channel, reason: reason)), to: .connection(session.connectionID), on: gateway)
        } catch {
            messenger.logger.debug("removal not told", metadata: ["apigw.channel": "\(channel)", "apigw.error": "\(error)"])
        }
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

/// A channel operation the configuration cannot do.
public struct ChannelsError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    /// The store keeps no channel rules.
    public static let noRuleStore = ChannelsError(description: "the store keeps no channel rules (no ChannelRuleStore)")
}
