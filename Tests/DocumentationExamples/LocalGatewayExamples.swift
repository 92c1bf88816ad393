import APIGatewayAWS
import APIGatewayLocal
import APIGatewayWebSockets
import Logging
import ServiceLifecycle

/// APIGatewayLocal.docc/LocalGatewayGuide.md
enum LocalGatewayExamples {
    static func yourBackendBehindIt() throws -> (GatewayRecord, ManagementClient) {
        let record = GatewayRecord(
            apiID: "myapi", stage: "local", region: "us-east-1",
            managementEndpoint: try ManagementEndpoint(url: "http://127.0.0.1:8081/myapi/local"))
        let poster = ManagementClient(
            httpClient: .shared, credentials: StaticCredentialProvider(LocalGatewayConfiguration.developmentCredential))
        return (record, poster)
    }

    static func inProcess() async throws {
        let declaration = LocalDeclaration(apis: [
            LocalDeclaration.API(
                apiId: "myapi", stages: ["local"],
                routes: [
                    "$connect": "http://127.0.0.1:8080/ws/connect",
                    "$disconnect": "http://127.0.0.1:8080/ws/disconnect",
                    "$default": "http://127.0.0.1:8080/ws/default",
                ],
                requestParameters: ["integration.request.header.connectionId": "context.connectionId"])
        ])
        let logger = Logger(label: "local-gateway")
        let gateway = LocalGateway(configuration: LocalGatewayConfiguration(port: 8081, apis: declaration.localAPIs()), logger: logger)
        try await ServiceGroup(services: [gateway], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
    }

    static func inATest(declaration: LocalDeclaration) async throws {
        let gateway = LocalGateway(configuration: LocalGatewayConfiguration(port: 0, apis: declaration.localAPIs()))
        let group = ServiceGroup(services: [gateway], logger: Logger(label: "local-gateway-test"))
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            let port = try await gateway.waitUntilRunning()
            print("clients connect to ws://127.0.0.1:\(port)/myapi/local")
            await group.triggerGracefulShutdown()
        }
    }
}
