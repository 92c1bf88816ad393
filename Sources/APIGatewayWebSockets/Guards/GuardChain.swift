import Foundation
import HTTPTypes
import Logging

/// The guards, numbered as `Docs/Refusals.md` numbers them; the first that fails answers.
/// 1–3 run for every event (``checkEvent(_:endpoint:logger:)``); 4–8 are the steps of a
/// `$connect`, 9–10 of a message, 11 every join (``Channels``). Each throws the ``Refusal`` its
/// row documents.
extension GatewayDispatcher {
    /// An event past guards 1–3: a well-formed connection id from a registered API.
    struct Checked {
        let connectionID: ConnectionID
        let gateway: GatewayRecord
    }

    /// Guards 1–3, shared by every event: 1. the gateway secret; 2. the required headers, a
    /// registered API, the controller's pin; 3. the body's size, a well-formed connection id.
    func checkEvent(_ request: GatewayRequest, endpoint: Endpoint, logger: inout Logger) async throws -> Checked {
        let headers = request.headerFields
        // 1. The gateway secret.
        if !configuration.secrets.isEmpty {
            let presented = headers.first(configuration.secretHeader)
            guard let presented, configuration.matchesSecret(presented) else {
                throw Refusal.gatewaySecret(present: presented != nil)
            }
        }
        // 2. Required headers, then a registered API (and the controller's pin).
        guard let rawConnectionID = headers.first(.connectionID), !rawConnectionID.isEmpty else {
            throw Refusal.missingHeader(.connectionID)
        }
        guard let rawAPIID = headers.first(.apiGatewayAPIID), !rawAPIID.isEmpty else { throw Refusal.missingHeader(.apiGatewayAPIID) }
        for name in configuration.requiredHeaders(endpoint.route.event) {
            guard let value = headers.first(name), !value.isEmpty else { throw Refusal.missingHeader(name) }
        }
        guard let apiID = try? APIID(rawAPIID), let gateway = try await metrics.store("gateway", { try await gateways.gateway(apiID) })
        else {
            throw Refusal.unknownAPI(rawAPIID)
        }
        if let pinned = endpoint.controller.controller.pinnedAPI, pinned != apiID {
            throw Refusal.apiNotAllowed(apiID, route: endpoint.route.routeKey)
        }
        // 3. Body size, then a well-formed connection id.
        guard request.body.readableBytes <= configuration.maxBodySize else {
            throw Refusal.bodyTooLarge(request.body.readableBytes, limit: configuration.maxBodySize)
        }
        let connectionID: ConnectionID
        do { connectionID = try ConnectionID(rawConnectionID) } catch let error as IdentifierError {
            throw Refusal.invalidConnectionID(error)
        }
        logger[metadataKey: "apigw.connection.id"] = "\(connectionID)"
        logger[metadataKey: "apigw.api.id"] = "\(apiID)"
        return Checked(connectionID: connectionID, gateway: gateway)
    }

    /// 4. The `Origin` of a `$connect`, before anything is counted: a handshake a foreign page
    /// opens from a visitor's browser is refused before it can spend the connect budget of
    /// everyone behind that address. Browsers always send `Origin` on a WebSocket handshake, so a
    /// missing one is a client that is not a browser (a token, or no login): only a connect the
    /// login cookie vouches for must come from an allowed page.
    func checkOrigin(_ request: GatewayRequest) throws {
        guard !configuration.allowedOrigins.isEmpty else { return }
        if let origin = request.headerFields[.origin] {  // two values join, and match no origin
            guard configuration.allows(origin: origin) else { throw Refusal.originNotAllowed(origin) }
        } else if request.authenticatedUser != nil {
            throw Refusal.originNotAllowed(nil)
        }
    }

    /// 5. The client address's connect rate (an IPv6 address counts as its /64), before anything
    /// costs more; then the channel the client asked for, if any, is a channel name.
    func checkAddressAndChannel(_ request: GatewayRequest) async throws -> ChannelName? {
        if let limit = configuration.connectRateLimits.perAddress,
            let address = request.clientAddress(behindProxies: configuration.trustedProxies)
        {
            try await countConnect("address \(RateLimitKey.address(address))", limit)
        }
        guard let requested = request.queryParameter("channel") else { return nil }
        do { return try ChannelName(requested) } catch let error as IdentifierError { throw Refusal.invalidChannel(error) }
    }

    /// 6. A one-time token, when the client brings one: looked at here, used only once every
    /// other check has passed (a refused connect does not spend it), refused if unknown.
    func checkToken(_ request: GatewayRequest) async throws -> (hash: String, token: ConnectionToken)? {
        guard let hash = request.queryParameter(configuration.tokenParameter).map(ConnectionTokens.hash) else { return nil }
        guard let identity, let found = try await metrics.store("token", { try await identity.token(hash: hash, at: now()) }) else {
            throw Refusal.invalidToken
        }
        return (hash, found)
    }

    /// 5 and 7. Counts one connect for `key` in its sliding window, or refuses it 429.
    func countConnect(_ key: String, _ limit: GatewayConfiguration.RateLimit) async throws {
        guard let identity else { return }
        guard
            try await metrics.store(
                "hit", { try await identity.hit("connect " + key, at: now(), window: limit.window, limit: limit.limit) })
        else {
            throw Refusal.rateLimited(key, limit)
        }
    }

    /// 8. The login's state at `$connect`: the app knows the user, and the login (or the token's
    /// login) was made with the current state, when the app kept it. Returns the state's hash to
    /// record with the session.
    func checkConnectLoginState(_ userID: String?, request: GatewayRequest, token: ConnectionToken?) async throws -> String? {
        guard let authStates, let userID else { return nil }
        guard let hash = try await metrics.store("login state", { try await authStates.hash(ofUser: userID) }) else {
            throw Refusal.loginExpired(userID: userID)
        }
        let login = request.authenticatedUser
        let loggedInWith = login?.id == userID ? login?.authStateHash : token?.userID == userID ? token?.authStateHash : nil
        if let loggedInWith, loggedInWith != hash { throw Refusal.loginExpired(userID: userID) }
        return hash
    }

    /// 9. A live session on this API, loaded and counted in one statement.
    func checkLiveSession(_ checked: Checked) async throws -> Session {
        guard
            let session = try await metrics.store(
                "touch", { try await store.touch(checked.connectionID, apiID: checked.gateway.apiID, at: now()) })
        else {
            throw Refusal.noLiveSession(checked.connectionID, apiID: checked.gateway.apiID)
        }
        return session
    }

    /// 9. The login the connection opened with still holds (no password change, no deactivation);
    /// a session with a user and no recorded state (opened before the app kept states) fails it.
    /// A failure closes the connection.
    func checkSessionLoginState(_ session: Session, on gateway: GatewayRecord, _ logger: Logger) async throws {
        guard let authStates, let userID = session.userID else { return }
        let current = try await metrics.store("login state", { try await authStates.hash(ofUser: userID) })
        guard let current, current == session.authStateHash else {
            await close(session, on: gateway, logger)
            throw Refusal.loginExpired(userID: userID)
        }
    }

    /// 10. Who may send it: the controller's requirement, then the handler's.
    func checkRequirements(of endpoint: Endpoint, handler name: String, for session: Session) async throws {
        if let requirement = endpoint.controller.requirement {
            try await requirement.check(session.userID, source: permissions, what: "route \(endpoint.route.routeKey)")
        }
        if let requirement = endpoint.controller.handlers.requirements[name] {
            try await requirement.check(session.userID, source: permissions, what: "route \(endpoint.route.routeKey) handler \(name)")
        }
    }
}
