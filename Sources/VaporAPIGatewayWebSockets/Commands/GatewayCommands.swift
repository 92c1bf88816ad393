public import APIGatewayAWS
import APIGatewayProvisioning
import APIGatewayWebSockets
import APIGatewayWebSocketsCommands
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

    /// The `gateway` commands' work (``GatewayDeployment``, shared with the swift-argument-parser
    /// commands) on the app's gateway.
    func deployment(_ context: CommandContext, endpoint: String?) throws -> GatewayDeployment {
        GatewayDeployment(provisioner: try provisioner(context, endpoint: endpoint))
    }
}

extension CommandContext {
    var webSocketGateway: WebSocketGateway {
        get throws {
            guard let gateway = application.webSocketGateway else { throw GatewayCommandError.noWebSocketGateway() }
            return gateway
        }
    }

    /// The maintenance commands' work on the app's gateway (``GatewayMaintenance``, shared with
    /// the swift-argument-parser commands), with the app's web sessions in its cleanup.
    var maintenance: GatewayMaintenance {
        get throws {
            let gateway = try webSocketGateway
            return GatewayMaintenance(
                dispatcher: gateway.dispatcher, cleanupSteps: application.databaseWebSessions.map { [$0.store.cleanupStep] } ?? [],
                logger: application.logger)
        }
    }

    /// The `gateway` commands' work for the commands that only read and write records.
    func recordsDeployment() throws -> GatewayDeployment {
        try ControlPlaneAccess(credentials: nil).deployment(self, endpoint: nil)
    }

    /// Prints a command's output, ending it with one newline (a document already ends with one).
    func show(_ text: String) {
        console.print(text, newLine: !text.hasSuffix("\n"))
    }
}
