import APIGatewayWebSockets
public import Vapor

/// A finding of the checks the gateway runs when the app boots, as Django's system checks are:
/// a code, what is wrong, and the fix. Errors stop the boot; warnings are logged.
public struct StartupCheck: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable { case error, warning }

    /// Stable, listed in `Docs/ThreatModel.md`: `apigw.E001`, `apigw.W001`, …
    public let code: String
    public let severity: Severity
    public let message: String
    public let fix: String

    public var description: String { "\(code) \(message). Fix: \(fix)" }
}

/// The boot stopped on startup check errors.
public struct StartupCheckError: Error, Sendable, CustomStringConvertible {
    public let errors: [StartupCheck]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

extension WebSocketGateway {
    /// What the checks find in this gateway's configuration for `environment`: in production a
    /// missing gateway secret and a cookie login without allowed origins are errors; elsewhere
    /// they are warnings, beside the others.
    public func startupChecks(environment: Environment) -> [StartupCheck] {
        let configuration = dispatcher.configuration
        let production = environment == .production
        var checks: [StartupCheck] = []
        if configuration.secrets.isEmpty {
            checks.append(
                StartupCheck(
                    code: production ? "apigw.E001" : "apigw.W001", severity: production ? .error : .warning,
                    message: "no gateway secret: anyone who knows a registered API id can send events",
                    fix: "set GatewayConfiguration.secrets and send the secret from every integration (gateway rotate-secret)"))
        }
        if let weak = configuration.secrets.first(where: { $0.count < 16 }) {
            checks.append(
                StartupCheck(
                    code: "apigw.W002", severity: .warning, message: "a gateway secret of \(weak.count) characters is easy to guess",
                    fix: "use at least 16 random characters"))
        }
        if authentication != nil && configuration.allowedOrigins.isEmpty {
            checks.append(
                StartupCheck(
                    code: production ? "apigw.E002" : "apigw.W003", severity: production ? .error : .warning,
                    message: "$connect reads the login from the session cookie, and any site's page can make the browser connect",
                    fix: "list your pages' origins in GatewayConfiguration.allowedOrigins"))
        }
        if let path = tokenEndpoint.withLock({ $0 }), configuration.allowedOrigins.isEmpty {
            checks.append(
                StartupCheck(
                    code: production ? "apigw.E003" : "apigw.W005", severity: production ? .error : .warning,
                    message: "the token endpoint \(path) has no origin list: it trusts any page served from its own host name",
                    fix: "list your pages' origins in GatewayConfiguration.allowedOrigins"))
        }
        if dispatcher.requiresUsers && authentication == nil {
            checks.append(
                StartupCheck(
                    code: "apigw.W004", severity: .warning,
                    message:
                        "a controller or handler requires a user, but the gateway has no ConnectAuthentication: only a connect hook can name one",
                    fix: "pass ConnectAuthentication(middleware:user:) to WebSocketGateway, or name the user in the connect hook"))
        }
        if let authentication, dispatcher.requiresUsers, !authentication.readsWebSessions {
            checks.append(
                StartupCheck(
                    code: production ? "apigw.E004" : "apigw.W006", severity: production ? .error : .warning,
                    message: "requirements need the login, but the $connect route's middleware has no session middleware to read it from",
                    fix:
                        "put app.sessions.middleware first in ConnectAuthentication's middleware (or say readsWebSessions: true for a cookie login of your own)"
                ))
        }
        if configuration.channels.unlisted.allows && configuration.channels.canJoin == nil {
            checks.append(
                StartupCheck(
                    code: "apigw.W007", severity: .warning,
                    message: "channels no rule names are open: any client can put itself in any channel it names (?channel=, join)",
                    fix:
                        "ChannelConfiguration(unlisted: .deny) and a rule for each channel (channels set-rule NAME --access …), or a canJoin hook"
                ))
        }
        return checks
    }

    /// Runs ``startupChecks(environment:)`` at boot: logs the warnings, stops the boot on errors.
    struct StartupCheckLifecycle: LifecycleHandler {
        let gateway: WebSocketGateway

        func willBootAsync(_ application: Application) async throws {
            let checks = gateway.startupChecks(environment: application.environment)
            for check in checks where check.severity == .warning {
                application.logger.warning("\(check)", metadata: ["apigw.check": "\(check.code)"])
            }
            let errors = checks.filter { $0.severity == .error }
            if !errors.isEmpty { throw StartupCheckError(errors: errors) }
        }
    }
}
