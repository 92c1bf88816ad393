public import APIGatewayWebSockets
import Foundation
public import Logging

/// What the maintenance commands do, for any app and any command-line parser: the Vapor door's
/// `sessions`, `channels` and `cleanup` commands and the swift-argument-parser ones
/// (``GatewayCLI``) call these, so the two print the same lines and fail the same way.
public struct GatewayMaintenance: Sendable {
    public let dispatcher: GatewayDispatcher
    /// The app's own cleanup steps, after the framework's (its web sessions' sweep, say).
    public var cleanupSteps: [Cleanup.Step]
    public let logger: Logger

    public init(
        dispatcher: GatewayDispatcher, cleanupSteps: [Cleanup.Step] = [],
        logger: Logger = Logger(label: "apigw.maintenance", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.dispatcher = dispatcher
        self.cleanupSteps = cleanupSteps
        self.logger = logger
    }

    // MARK: Sessions

    /// `sessions clear`: deletes the sessions disconnected at least `olderThanDays` days ago.
    public func clearSessions(olderThanDays days: Int?) async throws -> [String] {
        if let days, !(0...36_500).contains(days) {
            throw GatewayCommandError.invalid("--older-than-days", reason: "a number of days from 0 to 36500")
        }
        let cutoff = Date().addingTimeInterval(-Double(days ?? 0) * 86_400)
        let purged = try await dispatcher.store.purgeDisconnected(before: cutoff)
        return ["Deleted \(purged) disconnected session(s)."]
    }

    /// `sessions sweep`: marks disconnected the sessions API Gateway has certainly closed.
    public func sweepSessions() async throws -> [String] {
        let swept = try await SessionSweeper(store: dispatcher.store).sweep()
        return ["Marked \(swept) expired session(s) disconnected."]
    }

    /// `cleanup`: the scheduled cleanup, once; a line per step.
    public func cleanup(hitsOlderThanSeconds seconds: Int?) async throws -> [String] {
        if let seconds, !(0...3_153_600_000).contains(seconds) {
            throw GatewayCommandError.invalid("--hits-older-than-seconds", reason: "a number of seconds from 0 to 3153600000 (100 years)")
        }
        var cleanup = dispatcher.cleanup(steps: cleanupSteps, logger: logger)
        if let seconds { cleanup.hitRetention = .seconds(seconds) }
        return try await cleanup.run().map { "\($0.name): \($0.count)" }
    }

    // MARK: Channels

    private var rules: any ChannelRuleStore {
        get throws {
            guard let rules = dispatcher.channels.rules else { throw GatewayCommandError.noChannelRuleStore() }
            return rules
        }
    }

    /// `channels rules`: each rule, and the policy for channels no rule names.
    public func channelRules() async throws -> [String] {
        let rules = try await self.rules.channelRules()
        let policy = dispatcher.configuration.channels.unlisted
        return rules.map { "\($0.channel): \($0.access)" } + ["\(rules.isEmpty ? "No rules. " : "")Channels no rule names: \(policy)."]
    }

    /// `channels set-rule CHANNEL --access KIND [--permissions SETS]`.
    public func setRule(channel name: String, access kind: String?, permissions: String?) async throws -> [String] {
        let channel: ChannelName
        do { channel = try ChannelName(name) } catch { throw GatewayCommandError.invalid("channel", error) }
        guard let kind else { throw GatewayCommandError.missing("--access", for: "channels set-rule") }
        if kind == "permissions", permissions?.isEmpty ?? true {
            throw GatewayCommandError.missing("--permissions", for: "channels set-rule --access permissions")
        }
        let access: ChannelAccess
        do { access = try ChannelAccess(written: kind, sets: permissions) } catch { throw GatewayCommandError.invalid("--access", error) }
        _ = try rules
        let removed = try await dispatcher.channels.saveRule(ChannelRule(channel: channel, access: access))
        return ["\(channel): \(access)"] + (removed > 0 ? ["Removed \(removed) member(s) who may no longer join \(channel)."] : [])
    }

    /// `channels remove-rule CHANNEL`.
    public func removeRule(channel name: String) async throws -> [String] {
        let channel: ChannelName
        do { channel = try ChannelName(name) } catch { throw GatewayCommandError.invalid("channel", error) }
        _ = try rules
        let (existed, removed) = try await dispatcher.channels.removeRule(for: channel)
        return [existed ? "Removed the rule for \(channel)." : "No rule names \(channel)."]
            + (removed > 0 ? ["Removed \(removed) member(s) who may no longer join \(channel)."] : [])
    }

    /// `channels counts --api ID`: live connections and users per channel.
    public func channelCounts(api raw: String?) async throws -> [String] {
        guard let raw else { throw GatewayCommandError.missing("--api", for: "channels counts") }
        let apiID: APIID
        do { apiID = try APIID(raw) } catch { throw GatewayCommandError.invalid("--api", error) }
        let counts = try await dispatcher.store.channelCounts(apiID: apiID)
        if counts.isEmpty { return ["No channel of \(apiID) has a live member."] }
        return counts.map { "\($0.channel): \($0.connections) connection(s), \($0.users) user(s)" }
    }

    // MARK: Publish

    /// `publish --channel C | --user U --json '{…}' [--idempotency-key K] [--api ID]`: publishes a
    /// JSON object into the stream and delivers it; a message it could not deliver stays in the
    /// outbox for the running app's delivery worker. Lines: its position and whom it reached.
    public func publish(channel: String?, user: String?, json: String?, idempotencyKey: String?, api: String?) async throws -> [String] {
        let stream: StreamID
        switch (channel, user) {
        case (let channel?, nil):
            do { stream = .channel(try ChannelName(channel)) } catch { throw GatewayCommandError.invalid("--channel", error) }
        case (nil, let user?) where !user.isEmpty: stream = .user(user)
        default: throw GatewayCommandError.missing("--channel NAME or --user ID (one of them)", for: "publish")
        }
        guard let json else { throw GatewayCommandError.missing("--json '{…}'", for: "publish", "the message") }
        let payload: Payload
        do { payload = try Payload(text: json) } catch { throw GatewayCommandError.invalid("--json", error) }
        guard (try? JSONSerialization.jsonObject(with: Data(json.utf8))) is [String: Any] else {
            throw GatewayCommandError.invalid("--json", reason: "not a JSON object, such as '{\"text\":\"hi\"}'")
        }
        guard let streams = dispatcher.streams else { throw StreamError.off }
        let apiID: APIID?
        do { apiID = try api.map { try APIID($0) } } catch { throw GatewayCommandError.invalid("--api", error) }
        guard let directory = dispatcher.gateways as? CachedGatewayDirectory else { throw GatewayCommandError.noGatewayRecords() }
        let record = try await directory.record(for: apiID)
        let publication = try await streams.publish(payload, to: stream, on: record, idempotencyKey: idempotencyKey)
        let position = "\(stream) at offset \(publication.position.offset) (epoch \(publication.position.epoch))"
        if publication.duplicate {
            return ["Already published: \(position); the idempotency key was used, nothing was sent again."]
        }
        guard let report = publication.report else { return ["Published \(position)."] }
        return ["Published \(position): \(report)."] + report.failures.prefix(5).map { "  \($0.connectionID): \($0.reason)" }
    }
}
