import APIGatewayProvisioning
import FluentKit
import Foundation
import SQLKit

/// One apply (or domain attach, or secret rotation) per gateway at a time, across processes: a
/// claim on the gateway's row taken, renewed and released with conditional `UPDATE … RETURNING`
/// statements, so two processes can never both believe they hold it. A claim older than the
/// timeout is taken to be from a process that died, and is taken over.
struct GatewayClaim: Sendable {
    let name: String
    let token = UUID().uuidString
    let timeout: TimeInterval
    private let sql: any SQLDatabase

    /// Takes the claim on the gateway `name`.
    /// - Parameter markingApplying: set the status to `applying` (an apply); other actions leave it.
    /// - Throws: ``ProvisioningError`` (``ProvisioningError/Code/claimed``) while another holds it.
    static func take(_ name: String, timeout: TimeInterval, markingApplying: Bool, on database: any Database) async throws -> GatewayClaim {
        guard let sql = database as? any SQLDatabase else { throw ProvisioningError.needsSQL() }
        let claim = GatewayClaim(name: name, timeout: timeout, sql: sql)
        let now = Int64(Date().timeIntervalSince1970)
        let status: SQLQueryString = markingApplying ? ", status = \(bind: GatewayModel.Status.applying.rawValue)" : ""
        let claimed = try await sql.raw(
            """
            UPDATE \(ident: GatewayModel.schema) SET claim_token = \(bind: claim.token), claimed_at = \(bind: now)\(status)
            WHERE name = \(bind: name) AND (claim_token IS NULL OR claimed_at < \(bind: now - Int64(timeout)))
            RETURNING name
            """
        ).all()
        guard claimed.isEmpty else { return claim }
        let holder = try await sql.raw(
            "SELECT claimed_at FROM \(ident: GatewayModel.schema) WHERE name = \(bind: name)"
        ).first()
        guard let holder else { throw ProvisioningError.unknownGateway(name) }
        let since = try holder.decode(column: "claimed_at", as: Int64?.self).map { Date(timeIntervalSince1970: TimeInterval($0)) }
        throw ProvisioningError.claimHeld(name, since: since, timeout: timeout)
    }

    private init(name: String, timeout: TimeInterval, sql: any SQLDatabase) {
        self.name = name
        self.timeout = timeout
        self.sql = sql
    }

    /// Renews the claim after a step, so a long apply is not taken for a dead one.
    /// - Throws: ``ProvisioningError`` (``ProvisioningError/Code/claimed``) when another apply took
    ///   it over: this one stops rather than race it.
    func renew() async throws {
        let renewed = try await sql.raw(
            """
            UPDATE \(ident: GatewayModel.schema) SET claimed_at = \(bind: Int64(Date().timeIntervalSince1970))
            WHERE name = \(bind: name) AND claim_token = \(bind: token)
            RETURNING name
            """
        ).all()
        if renewed.isEmpty { throw ProvisioningError.claimLost(name, timeout: timeout) }
    }

    /// Releases the claim; with `outcome`, records the apply's status and error too.
    func release(outcome: (status: GatewayModel.Status, error: (any Error)?)?) async throws {
        let recorded: SQLQueryString =
            outcome.map { ", status = \(bind: $0.status.rawValue), last_error = \(bind: $0.error.map { String(describing: $0) })" } ?? ""
        try await sql.raw(
            """
            UPDATE \(ident: GatewayModel.schema) SET claim_token = NULL, claimed_at = NULL\(recorded)
            WHERE name = \(bind: name) AND claim_token = \(bind: token)
            """
        ).run()
    }
}
