public import APIGatewayAWS
import APIGatewayProvisioning
import APIGatewayWebSockets
public import Vapor

/// `gateway <command>`: the gateway records and the app's registered routes as API Gateway
/// routes, through the same planner the IaC exports and the admin page use. Each command has its
/// own options and `--help`; its result alone goes to standard output, so an export redirected
/// to a file is the file.
///
/// ```sh
/// swift run App gateway configure --gateway chat --public-url https://backend.example.com --stage production
/// swift run App gateway plan   --gateway chat
/// swift run App gateway apply  --gateway chat
/// swift run App gateway export --gateway chat --format terraform > ws.tf
/// swift run App gateway apply --help
/// ```
public struct GatewayCommands: AsyncCommandGroup {
    public let commands: [String: any AnyAsyncCommand]

    public var help: String { "Configures, plans, applies and exports the app's WebSocket API in API Gateway." }

    /// - Parameter credentials: what signs the control-plane calls; by default the usual chain
    ///   (environment, `~/.aws` files, container, instance metadata).
    public init(credentials: (any CredentialProvider)? = nil) {
        let access = ControlPlaneAccess(credentials: credentials)
        commands = [
            "configure": ConfigureGatewayCommand(),
            "status": GatewayStatusCommand(),
            "plan": PlanGatewayCommand(access: access),
            "apply": ApplyGatewayCommand(access: access),
            "domain": GatewayDomainCommand(access: access),
            "import": ImportGatewayCommand(access: access),
            "export": ExportGatewayCommand(),
            "rotate-secret": RotateGatewaySecretCommand(access: access),
            "add-route": AddGatewayRouteCommand(),
            "remove-route": RemoveGatewayRouteCommand(),
        ]
    }
}

/// How the commands reach the control plane: the credentials, and an endpoint override.
struct ControlPlaneAccess: Sendable {
    let credentials: (any CredentialProvider)?

    /// The provisioner for the app, signing for each record's region, at `endpoint` when given
    /// (the local gateway, moto) instead of AWS's.
    func provisioner(_ context: CommandContext, endpoint: String?) throws -> GatewayProvisioner {
        let gateway = try context.webSocketGateway
        let http = context.application.http.client.shared
        let credentials = self.credentials ?? CredentialProviderChain.default(httpClient: http)
        return GatewayProvisioner(gateway: gateway) { region in
            ControlPlaneClient(httpClient: http, credentials: credentials, region: region, endpoint: endpoint)
        }
    }
}

extension CommandContext {
    var webSocketGateway: WebSocketGateway {
        get throws {
            guard let gateway = application.webSocketGateway else { throw GatewayCommandError.noWebSocketGateway() }
            return gateway
        }
    }

    /// A provisioner for the commands that only read and write records.
    func recordsProvisioner() throws -> GatewayProvisioner {
        try ControlPlaneAccess(credentials: nil).provisioner(self, endpoint: nil)
    }

    /// The gateway named by `--gateway`, or the only one.
    func gatewayName(_ option: String?, _ provisioner: GatewayProvisioner) async throws -> String {
        if let option { return option }
        return try await provisioner.soleGatewayName()
    }
}

/// A command used wrongly: a missing option, an unknown format. Printed as `Error: …` with exit
/// status 1, like every command error.
public struct GatewayCommandError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case noWebSocketGateway
        case noIdentityStore
        case noChannelRuleStore
        case missing(option: String, command: String, why: String?)
        case unknownFormat(String, command: String, allowed: [String])
        case badTag(String)
        case invalid(option: String, reason: String)
        case notConfirmed(deletions: Int)
    }

    private let kind: Kind

    static func noWebSocketGateway() -> Self { Self(kind: .noWebSocketGateway) }

    static func noIdentityStore() -> Self { Self(kind: .noIdentityStore) }

    static func noChannelRuleStore() -> Self { Self(kind: .noChannelRuleStore) }

    static func missing(_ option: String, for command: String, _ why: String? = nil) -> Self {
        Self(kind: .missing(option: option, command: command, why: why))
    }

    static func unknownFormat(_ format: String, for command: String, allowed: [String]) -> Self {
        Self(kind: .unknownFormat(format, command: command, allowed: allowed))
    }

    static func badTag(_ pair: Substring) -> Self { Self(kind: .badTag(String(pair))) }

    static func notConfirmed(deletions: Int) -> Self { Self(kind: .notConfirmed(deletions: deletions)) }

    static func invalid(_ option: String, _ error: any Error) -> Self { Self(kind: .invalid(option: option, reason: "\(error)")) }

    static func invalid(_ option: String, reason: String) -> Self { Self(kind: .invalid(option: option, reason: reason)) }

    public var description: String {
        switch kind {
        case .noWebSocketGateway: "the app has no WebSocketGateway: create one before running `gateway` or `sessions`"
        case .noIdentityStore: "the gateway's store keeps no tokens or rate-limit hits (it is not an IdentityStore)"
        case .noChannelRuleStore: "the gateway has no store for channel rules (its store is not a ChannelRuleStore)"
        case .missing(let option, let command, let why): "\(command) needs \(option)" + (why.map { ": \($0)" } ?? "")
        case .unknownFormat(let format, let command, let allowed):
            "unknown --format \(format) for \(command): \(allowed.joined(separator: ", "))"
        case .badTag(let pair): "--tags: '\(pair)' is not key=value"
        case .invalid(let option, let reason): "\(option): \(reason)"
        case .notConfirmed(let deletions):
            "nothing applied: the plan deletes \(deletions) route(s) and was not confirmed (answer 'yes', or pass --yes)"
        }
    }
}
