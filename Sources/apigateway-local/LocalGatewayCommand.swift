import APIGatewayAWS
import APIGatewayLocal
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle

@main
struct LocalGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apigateway-local",
        abstract: "API Gateway's WebSocket side on this machine, for HTTP backends.",
        discussion: """
            Clients connect to ws://HOST:PORT/{apiId}/{stage}; backends post to
            http://HOST:PORT/{apiId}/{stage}/@connections/{connectionId}, signed with SigV4 (service
            execute-api) by the configured keys. APIs come from --declare files and from the state file.
            """
    )

    @Option(help: "The address to listen on. Keep it on loopback: the gateway is for one machine.")
    var host = "127.0.0.1"

    @Option(help: "The port for client WebSockets and @connections (0 picks a free one).")
    var port = 8081

    @Option(name: .customLong("state-file"), help: "A JSON file where APIs persist across restarts.")
    var stateFile: String?

    @Option(
        name: .customLong("declare"),
        help: "A JSON declaration of APIs and their routes (repeatable): {\"apis\":[{\"apiId\",\"stages\",\"routes\":{key: uri}}]}.")
    var declarations: [String] = []

    @Option(name: .customLong("access-key-id"), help: "The access key @connections requests must be signed with.")
    var accessKeyID = LocalGatewayConfiguration.developmentCredential.accessKeyID

    @Option(name: .customLong("secret-access-key"), help: "Its secret.")
    var secretAccessKey = LocalGatewayConfiguration.developmentCredential.secretAccessKey

    @Flag(name: .customLong("no-verify-signatures"), help: "Accept unsigned @connections requests (AWS never does).")
    var noVerifySignatures = false

    @Option(name: .customLong("idle-timeout"), help: "Seconds without a frame before a connection closes (1001).")
    var idleTimeout = 600

    @Option(name: .customLong("max-duration"), help: "Seconds a connection may live (1001).")
    var maxDuration = 7200

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error.")
    var logLevel = "info"

    func run() async throws {
        var logger = Logger(label: "apigateway-local")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var apis: [LocalAPI] = []
        for file in declarations {
            let declaration = try JSONDecoder().decode(LocalDeclaration.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
            apis += declaration.localAPIs()
        }
        let gateway = LocalGateway(
            configuration: LocalGatewayConfiguration(
                host: host, port: port,
                credentials: [Credential(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey)],
                verifiesSignatures: !noVerifySignatures, stateFile: stateFile, apis: apis,
                idleTimeout: .seconds(idleTimeout), maximumConnectionDuration: .seconds(maxDuration)
            ),
            logger: logger
        )
        let group = ServiceGroup(services: [gateway], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
