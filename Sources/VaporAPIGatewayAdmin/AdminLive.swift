import APIGatewayWebSockets
import Fluent
import Foundation
import Vapor
import VaporAPIGatewayWebSockets

/// What is live: sessions (filtered, counted per channel, presence, closed one at a time), a send
/// to any audience with its delivery report, and tokens, rate-limit records and channel rules.
extension WebSocketAdmin {
    struct SessionRow: Encodable {
        let connectionID: String
        let apiID: String
        let user: String
        let connected: Bool
        let requestCount: Int
        let createdAt: String
        let updatedAt: String
    }

    struct CountRow: Encodable {
        let apiID: String
        let channel: String
        let connections: Int
        let users: Int
        let present: [String]
        let href: String
    }

    struct SessionsPage: Encodable {
        let sessions: [SessionRow]
        let counts: [CountRow]
        let channel: String
        let user: String
        let connected: String
        let next: String
        let notice: String
        /// The filtered channel's last messages, with their positions, when streams are on.
        let history: [HistoryRow]
        let streams: String
    }

    struct HistoryRow: Encodable {
        let apiID: String
        let offset: Int
        let publishedAt: String
        let body: String
        let delivered: Bool
    }

    struct SendPage: Encodable {
        let apis: [String]
        let audience: String
        let target: String
        let body: String
        let report: ReportView?
        let error: String
    }

    struct ReportView: Encodable {
        let attempted: Int
        let sent: Int
        let gone: Int
        let failed: Int
        let failures: [String]
        let elapsed: String
        /// Where the message went in its stream (a channel's or a user's, with streams on).
        var position = ""
    }

    struct TokenRow: Encodable {
        let hash: String
        let user: String
        let createdAt: String
        let expiresAt: String
    }

    struct HitRow: Encodable {
        let key: String
        let hits: Int
        let latest: String
    }

    struct RuleRow: Encodable {
        let channel: String
        let access: String
    }

    struct IdentityPage: Encodable {
        let tokens: [TokenRow]
        let hits: [HitRow]
        let rules: [RuleRow]
        let unlisted: String
        let notice: String
    }

    static let stamp: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter
    }()

    struct AuditRow: Encodable {
        let at: String
        let actor: String
        let action: String
        let target: String
        let outcome: String
    }

    struct AuditPage: Encodable {
        let entries: [AuditRow]
    }

    func registerLive(on routes: any RoutesBuilder) {
        routes.get("audit") { request async throws -> Response in
            let entries = try await gateway.auditLog.latest(200).map {
                AuditRow(at: Self.stamp.string(from: $0.at), actor: $0.actor, action: $0.action, target: $0.target, outcome: $0.outcome)
            }
            return try await render("audit.leaf", AuditPage(entries: entries), for: request)
        }
        routes.get("sessions") { request async throws -> Response in try await sessionsPage(notice: "", for: request) }
        routes.post("sessions", "close") { request async throws -> Response in
            let id: ConnectionID
            do { id = try ConnectionID(try request.content.get(String.self, at: "connection_id")) } catch {
                return try await sessionsPage(notice: "Nothing closed: \(Self.problem(error))", status: .badRequest, for: request)
            }
            let notice: String
            if let session = try await gateway.dispatcher.store.session(id), session.connected {
                notice =
                    try await gateway.dispatcher.closeConnections(of: .connection(session.connectionID)) == 1
                    ? "Closed \(id): API Gateway sends its $disconnect." : "Could not close \(id): see the log."
            } else {
                notice = "\(id) is not connected."
            }
            return try await sessionsPage(notice: notice, for: request)
        }
        routes.get("send") { request async throws -> Response in
            try await render(
                "send.leaf", SendPage(apis: try await apiIDs(request), audience: "everyone", target: "", body: "", report: nil, error: ""),
                for: request)
        }
        routes.post("send") { request async throws -> Response in try await send(request) }
        routes.get("identity") { request async throws -> Response in try await identityPage(notice: "", for: request) }
        routes.post("tokens", "revoke") { request async throws -> Response in
            let identity = try requireIdentity()
            let revoked = try await identity.revokeToken(hash: try request.content.get(String.self, at: "hash"))
            return try await identityPage(notice: revoked ? "Token revoked." : "That token was already used or gone.", for: request)
        }
        routes.post("tokens", "purge") { request async throws -> Response in
            let purged = try await requireIdentity().purgeTokens(expiredBefore: Date())
            return try await identityPage(notice: "Deleted \(purged) expired token(s).", for: request)
        }
        routes.post("hits", "clear") { request async throws -> Response in
            let key = try request.content.get(String.self, at: "key")
            let cleared = try await requireIdentity().clearHits(key: key)
            return try await identityPage(notice: "Cleared \(cleared) hit(s) of '\(key)'.", for: request)
        }
        routes.post("rules") { request async throws -> Response in
            let notice: String
            do {
                let channel = try ChannelName(try request.content.get(String.self, at: "channel"))
                let access = try ChannelAccess(
                    written: try request.content.get(String.self, at: "access"),
                    sets: try? request.content.get(String.self, at: "permissions"))
                _ = try requireRules()
                let removed = try await gateway.dispatcher.channels.saveRule(ChannelRule(channel: channel, access: access))
                notice = "\(channel): \(access)." + Self.removedMembers(removed)
            } catch let error as Abort {
                throw error
            } catch {
                return try await identityPage(notice: "Rule not saved: \(Self.problem(error))", status: .badRequest, for: request)
            }
            return try await identityPage(notice: notice, for: request)
        }
        routes.post("rules", "remove") { request async throws -> Response in
            let channel: ChannelName
            do { channel = try ChannelName(try request.content.get(String.self, at: "channel")) } catch {
                return try await identityPage(notice: "No rule removed: \(Self.problem(error))", status: .badRequest, for: request)
            }
            _ = try requireRules()
            let (existed, removed) = try await gateway.dispatcher.channels.removeRule(for: channel)
            return try await identityPage(
                notice: existed ? "Removed the rule for \(channel)." + Self.removedMembers(removed) : "No rule names \(channel).",
                for: request)
        }
    }

    /// " 2 members who may no longer join were removed." after a rule change, or nothing.
    static func removedMembers(_ count: Int) -> String {
        count == 0 ? "" : " \(count) member\(count == 1 ? "" : "s") who may no longer join \(count == 1 ? "was" : "were") removed."
    }

    /// What was wrong with a form's field, for its notice: the reason of a missing field, the
    /// description of a malformed one.
    static func problem(_ error: any Error) -> String {
        (error as? any AbortError)?.reason ?? "\(error)"
    }

    private func requireIdentity() throws -> any IdentityStore {
        guard let identity = gateway.dispatcher.identity else { throw Abort(.notImplemented, reason: "The store keeps no tokens") }
        return identity
    }

    private func requireRules() throws -> any ChannelRuleStore {
        guard let rules = gateway.dispatcher.channels.rules else { throw Abort(.notImplemented, reason: "The store keeps no rules") }
        return rules
    }

    private func apiIDs(_ request: Request) async throws -> [String] {
        try await GatewayModel.query(on: request.db).all().compactMap(\.apiID).sorted()
    }

    func sessionsPage(notice: String, status: HTTPResponseStatus = .ok, for request: Request) async throws -> Response {
        func query(_ name: String) -> String { (request.query[String.self, at: name] ?? "").trimmingCharacters(in: .whitespaces) }
        let channel = query("channel"), user = query("user"), connected = query("connected"), after = query("after")
        var notice = notice
        var filter = SessionFilter(
            userID: user.isEmpty ? nil : user, connected: connected == "yes" ? true : connected == "no" ? false : nil)
        var start: ConnectionID?
        do {
            filter.channel = channel.isEmpty ? nil : try ChannelName(channel)
            start = after.isEmpty ? nil : try ConnectionID(after)
        } catch {
            notice = "\(error)"
        }
        let pageSize = 50
        let sessions = try await gateway.dispatcher.store.sessions(filter, after: start, limit: pageSize)
        var counts: [CountRow] = []
        for apiID in try await apiIDs(request) {
            let api = try APIID(apiID)
            // The busiest channels first, and at most 50: a page, not a report.
            let busiest = try await gateway.dispatcher.store.channelCounts(apiID: api).sorted { $0.connections > $1.connections }.prefix(50)
            for count in busiest {
                let present = try await gateway.dispatcher.channels.users(in: count.channel, apiID: api, limit: 20)
                counts.append(
                    CountRow(
                        apiID: apiID, channel: count.channel.rawValue, connections: count.connections, users: count.users, present: present,
                        href: path + "/sessions?" + Self.query(["channel": count.channel.rawValue, "connected": "yes"])))
            }
        }
        let rows = sessions.map { session in
            SessionRow(
                connectionID: session.connectionID.rawValue, apiID: session.apiID.rawValue, user: session.userID ?? "",
                connected: session.connected, requestCount: session.requestCount, createdAt: Self.stamp.string(from: session.createdAt),
                updatedAt: Self.stamp.string(from: session.updatedAt))
        }
        var history: [HistoryRow] = []
        var streamsNote = ""
        if let streams = gateway.dispatcher.streams, let room = filter.channel {
            for apiID in try await apiIDs(request) {
                let api = try APIID(apiID)
                for message in try await streams.history(of: .channel(room), apiID: api, limit: 20).reversed() {
                    history.append(
                        HistoryRow(
                            apiID: apiID, offset: message.position.offset, publishedAt: Self.stamp.string(from: message.publishedAt),
                            body: String(buffer: message.body), delivered: message.delivered))
                }
                if let head = try await streams.head(of: .channel(room), apiID: api) {
                    streamsNote += "\(apiID): offset \(head.lastOffset), epoch \(head.epoch), kept from \(head.firstOffset). "
                }
            }
        }
        let next =
            sessions.count == pageSize
            ? path + "/sessions?"
                + Self.query(["channel": channel, "user": user, "connected": connected, "after": sessions.last!.connectionID.rawValue]) : ""
        return try await render(
            "sessions.leaf",
            SessionsPage(
                sessions: rows, counts: counts, channel: channel, user: user, connected: connected, next: next, notice: notice,
                history: history, streams: streamsNote),
            for: request, status: status)
    }

    /// `values` as a query string, each percent-encoded, empty ones left out.
    static func query(_ values: KeyValuePairs<String, String>) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return values.filter { !$0.value.isEmpty }
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    func send(_ request: Request) async throws -> Response {
        let audienceName = (try? request.content.get(String.self, at: "audience")) ?? "everyone"
        let target = ((try? request.content.get(String.self, at: "target")) ?? "").trimmingCharacters(in: .whitespaces)
        let body = (try? request.content.get(String.self, at: "body")) ?? ""
        let apis = try await apiIDs(request)
        func page(_ report: ReportView?, _ error: String) async throws -> Response {
            try await render(
                "send.leaf", SendPage(apis: apis, audience: audienceName, target: target, body: body, report: report, error: error),
                for: request, status: error.isEmpty ? .ok : .badRequest)
        }
        let audience: Audience
        do {
            switch audienceName {
            case "connection": audience = .connection(try ConnectionID(target))
            case "channel": audience = .channel(try ChannelName(target))
            case "user":
                guard !target.isEmpty else { return try await page(nil, "Name the user to send to.") }
                audience = .user(target)
            case "everyone": audience = .everyone
            default: return try await page(nil, "Unknown audience '\(audienceName.prefix(20))'.")
            }
        } catch {
            return try await page(nil, "\(error)")
        }
        let chosen = ((try? request.content.get(String.self, at: "api_id")) ?? apis.first) ?? ""
        guard let apiID = try? APIID(chosen), let record = try await gateway.directory.gateway(apiID) else {
            return try await page(nil, "No applied gateway to send through: apply one first.")
        }
        let payload: Payload
        do { payload = try Payload(text: body) } catch { return try await page(nil, "\(error)") }
        guard !body.isEmpty else { return try await page(nil, "Write the message to send.") }
        // With streams on, a channel or a user gets it in their stream, as the app's own sends do.
        var position = ""
        let report: DeliveryReport
        if let streams = gateway.dispatcher.streams, let stream = StreamID(audience) {
            let publication: Publication
            do {
                publication = try await streams.publish(payload, to: stream, on: record)
            } catch let error as StreamError {
                return try await page(nil, error.description)
            }
            report = publication.report ?? DeliveryReport()
            position = "\(stream) at offset \(publication.position.offset) (epoch \(publication.position.epoch))"
        } else {
            report = try await gateway.dispatcher.messenger.send(payload, to: audience, on: record)
        }
        var view = ReportView(
            attempted: report.attempted, sent: report.sent, gone: report.gone.count, failed: report.failedCount,
            failures: report.failures.map { "\($0.connectionID): \($0.reason)" }, elapsed: "\(report.elapsed)")
        view.position = position
        return try await page(view, "")
    }

    func identityPage(notice: String, status: HTTPResponseStatus = .ok, for request: Request) async throws -> Response {
        let now = Date()
        let tokens = try await gateway.dispatcher.identity?.liveTokens(at: now, limit: 100) ?? []
        let hits = try await gateway.dispatcher.identity?.hitCounts(after: now.addingTimeInterval(-3600), limit: 100) ?? []
        let rules = try await gateway.dispatcher.channels.rules?.channelRules() ?? []
        let page = IdentityPage(
            tokens: tokens.map {
                TokenRow(
                    hash: $0.hash, user: $0.userID, createdAt: Self.stamp.string(from: $0.createdAt),
                    expiresAt: Self.stamp.string(from: $0.expiresAt))
            },
            hits: hits.map { HitRow(key: $0.key, hits: $0.hits, latest: Self.stamp.string(from: $0.latest)) },
            rules: rules.map { RuleRow(channel: $0.channel.rawValue, access: "\($0.access)") },
            unlisted: "\(gateway.dispatcher.configuration.channels.unlisted)", notice: notice)
        return try await render("identity.leaf", page, for: request, status: status)
    }
}
