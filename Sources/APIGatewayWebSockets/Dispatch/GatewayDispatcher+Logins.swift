import Foundation
import Logging

extension GatewayDispatcher {
    /// Closes every connection that came from the web session `webSessionID`, and revokes the
    /// connection tokens it was issued and has not used: call it when that login logs out (or is
    /// replaced by a new one). See ``closeConnections(of:)``.
    @discardableResult
    public func closeConnections(ofWebSession webSessionID: String) async throws -> Int {
        guard !webSessionID.isEmpty else { return 0 }
        let hash = ConnectionTokens.hash(webSessionID)
        // Its unused tokens first: a token fetched before the logout would otherwise open a socket
        // bound to a web session no later logout can name.
        if let identity { _ = try await identity.revokeTokens(ofWebSession: hash) }
        return try await closeConnections(of: .webSession(hash: hash))
    }

    /// Closes every connection of `userID`, on every API: call it when the user's password
    /// changes or the account is deactivated, so no socket outlives the login it was opened with.
    @discardableResult
    public func closeConnections(ofUser userID: String) async throws -> Int {
        authStates?.forget(userID)
        return try await closeConnections(of: .user(userID))
    }

    /// Closes `owner`'s connections through `@connections` DELETE; API Gateway then sends each
    /// `$disconnect`, which marks the session and runs the disconnect hook as for any close. A
    /// connection already gone is marked here, since no `$disconnect` will come. One failed close
    /// does not stop the others. Returns how many were closed.
    @discardableResult
    public func closeConnections(of owner: SessionOwner) async throws -> Int {
        var closed = 0
        for session in try await store.connectedSessions(of: owner) {
            guard let gateway = try await gateways.gateway(session.apiID) else { continue }
            if await close(session, on: gateway, logger) { closed += 1 }
        }
        logger.debug("closed connections", metadata: ["apigw.closed": "\(closed)"])
        return closed
    }

    /// Whether `user`'s login still holds: the app's ``AuthStateSource`` knows the user, and the
    /// state the login was made with (``AuthenticatedUser/authStateHash``, when it kept one) is the
    /// current one. Every door that trusts a login asks this: `$connect`, the token endpoint, an
    /// admin page. Without an ``AuthStateSource`` every login holds.
    /// - Throws: the store's error when the app's state cannot be read.
    public func loginHolds(_ user: AuthenticatedUser) async throws -> Bool {
        guard let authStates else { return true }
        guard let current = try await metrics.store("login state", { try await authStates.hash(ofUser: user.id) }) else { return false }
        return user.authStateHash.map { $0 == current } ?? true
    }

    /// Closes `session`'s connection through `@connections` DELETE (API Gateway then sends its
    /// `$disconnect`); one already gone is marked here. The one close-and-mark-gone: a failure is
    /// logged, not thrown (the refusal or the logout that called for it answers either way).
    /// Returns whether it was closed.
    @discardableResult
    func close(_ session: Session, on gateway: GatewayRecord, _ logger: Logger) async -> Bool {
        do {
            if try await messenger.poster.close(session.connectionID, on: gateway) == .gone {
                _ = try await store.markGone([session.connectionID], apiID: session.apiID, at: now())
            }
            return true
        } catch {
            logger.warning(
                "could not close a connection", metadata: ["apigw.connection.id": "\(session.connectionID)", "apigw.error": "\(error)"])
            return false
        }
    }
}
