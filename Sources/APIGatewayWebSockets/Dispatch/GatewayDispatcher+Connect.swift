import Foundation
import Logging

extension GatewayDispatcher {
    /// `$connect`: guards 4–8 in order, the `$default` controller's connect hook, then the
    /// session recorded (and the token, if any, used) so API Gateway completes the handshake.
    func connect(_ request: GatewayRequest, _ checked: Checked, _ endpoint: Endpoint, _ logger: Logger) async throws -> GatewayResponse {
        try checkOrigin(request)  // 4
        let requestedChannel = try await checkAddressAndChannel(request)  // 5
        let presented = try await checkToken(request)  // 6
        let token = presented?.token
        let context = ConnectContext(
            request: request, connectionID: checked.connectionID, gateway: checked.gateway,
            requestedChannel: requestedChannel ?? checked.gateway.defaultChannel,
            tokenUserID: token?.userID, gatewayUserID: gatewayUser(request), logger: logger
        )
        let decision = try await endpoint.controller.controller.connect(context)  // 6: the hook
        let userID: String?
        let channel: ChannelName?
        switch decision.kind {
        case .reject(let refusal): throw refusal
        case .accept(let chosen, let user):
            // A channel the hook chose is the app's word; the client's (or the gateway's default) is checked below.
            channel = chosen ?? requestedChannel ?? checked.gateway.defaultChannel
            // The hook's word, else the login's, else API Gateway's (behind the secret), else the token's.
            userID = user ?? request.authenticatedUser?.id ?? gatewayUser(request) ?? token?.userID
        }
        // 7. The user's connect rate, once the user is known; then who may connect at all.
        if let limit = configuration.connectRateLimits.perUser, let userID { try await countConnect("user \(userID)", limit) }
        if let requirement = endpoint.controller.connectRequirement {
            try await requirement.check(userID, source: permissions, what: "connecting")
        }
        // 8. The channel's rules, unless the hook chose the channel; then the login's state.
        if let channel, decision.chosenChannel == nil {
            try await metrics.store("channel rule") {
                try await channels.check(channel, connection: checked.connectionID, apiID: checked.gateway.apiID, userID: userID)
            }
        }
        let authStateHash = try await checkConnectLoginState(userID, request: request, token: token)
        let date = now()
        // The login the connection came from: the authenticated web session, else the token's.
        let webSessionHash =
            request.authenticatedUser?.webSessionID.map(ConnectionTokens.hash)
            ?? token.flatMap { $0.sessionHash.isEmpty ? nil : $0.sessionHash }
        let session = Session(
            connectionID: checked.connectionID, apiID: checked.gateway.apiID, stage: checked.gateway.stage,
            userID: userID, webSessionHash: webSessionHash, authStateHash: authStateHash, createdAt: date
        )
        // The token is used now, in one statement: of concurrent connects with it, one gets here.
        if let presented,
            try await metrics.store("consume token", { try await identity?.consumeToken(hash: presented.hash, at: date) }) == nil
        {
            throw Refusal.invalidToken
        }
        let outcome = try await metrics.store("connect") { try await store.connect(session, joining: channel) }
        if outcome == .alreadyClosed { throw Refusal.connectionClosed(checked.connectionID) }  // 8
        logger.debug(outcome == .retried ? "connect retried" : "connected", metadata: ["apigw.channel": "\(channel?.rawValue ?? "")"])
        return .ok
    }

    /// The user API Gateway vouched for, from ``GatewayConfiguration/gatewayIdentity``'s header:
    /// only when the integration that mapped it also sent the secret in the proof header (guard 1
    /// has checked the request's own secret).
    func gatewayUser(_ request: GatewayRequest) -> String? {
        guard let identity = configuration.gatewayIdentity, !configuration.secrets.isEmpty,
            let proof = request.headerFields[GatewayIdentity.proofHeader], configuration.matchesSecret(proof),
            let value = request.headerFields[identity.header], !value.isEmpty
        else { return nil }
        return value
    }
}
