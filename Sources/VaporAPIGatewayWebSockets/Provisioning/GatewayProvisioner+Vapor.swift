public import APIGatewayAWS
public import APIGatewayWebSocketsSQL

extension GatewayProvisioner {
    /// The provisioner of a Vapor app's gateway: its routes, configuration, provisioning options,
    /// records in the app's database, and directory.
    public init(gateway: WebSocketGateway, client: @escaping @Sendable (String) -> ControlPlaneClient) {
        self.init(
            dispatcher: gateway.dispatcher, directory: gateway.directory, options: gateway.provisioning, database: gateway.database,
            client: client)
    }
}
