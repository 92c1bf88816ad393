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
        help: ArgumentHelp(
            "A JSON file declaring APIs to serve from the start (repeatable).",
            discussion: """
                {"apis": [{"apiId": "chatlocal", "stages": ["local"],
                           "routes": {"$connect": "http://127.0.0.1:8080/ws/connect",
                                      "$disconnect": "http://127.0.0.1:8080/ws/disconnect",
                                      "$default": "http://127.0.0.1:8080/ws/default"},
                           "routeSelectionExpression": "$request.body.action",
                           "twoWayRoutes": ["$default"],
                           "requestParameters": {"integration.request.header.connectionId": "context.connectionId"},
                           "timeoutInMillis": 29000}]}
                apiId, stages and routes (route key to integration URL) are required; the rest optional.
                """, valueName: "file"))
    var declarations: [String] = []

    @Option(
        name: .customLong("access-key-id"),
        help:
            "The access key requests must be signed with. Without it: the development key, and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY if set."
    )
    var accessKeyID: String?

    @Option(name: .customLong("secret-access-key"), help: "Its secret (visible in ps: prefer the file or APIGW_LOCAL_SECRET_ACCESS_KEY).")
    var secretAccessKey: String?

    @Option(name: .customLong("secret-access-key-file"), help: "A file whose first line is the secret.")
    var secretAccessKeyFile: String?

    @Option(help: "The region requests must be signed for.")
    var region = "us-east-1"

    @Option(name: .customLong("outbound-buffer"), help: "Bytes that may wait for one client; a post past it gets 429.")
    var outboundBuffer = 1 << 20

    @Option(name: .customLong("max-connections"), help: "TCP connections open at once; past it, 429 (upgrades) or 503.")
    var maxConnections = 20_000

    @Option(name: .customLong("connect-rate"), help: "Opt-in: new connections a second (AWS: 500); past it, 429.")
    var connectRate: Int?

    @Option(name: .customLong("callback-rate"), help: "Opt-in: @connections calls a second (AWS: 10000); past it, 429.")
    var callbackRate: Int?

    @Option(name: .customLong("callback-burst"), help: "The callback bucket's burst (AWS: 5000); with --callback-rate.")
    var callbackBurst: Int?

    @Option(
        name: .customLong("authorizer-function"),
        help: ArgumentHelp(
            "A Lambda authorizer's function ARN and the URL that answers for it, as ARN=URL (repeatable).",
            discussion: "The gateway POSTs the Lambda REQUEST authorizer event to the URL and reads the answer as the function's.",
            valueName: "arn=url"))
    var authorizerFunctions: [String] = []

    @Option(name: .customLong("access-log"), help: "Where stages with access log settings write their lines: a file, or - (standard output).")
    var accessLog = "-"

    @Option(name: .customLong("account-id"), help: "The account in the ARNs the gateway writes (authorizer methodArn, IAM userArn).")
    var accountID = "000000000000"

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
            let declaration = try LocalDeclaration.read(from: file)
            apis += declaration.localAPIs()
        }
        let credentials = try LocalGatewayConfiguration.credentials(
            accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, secretFile: secretAccessKeyFile,
            environment: ProcessInfo.processInfo.environment)
        var configuration = LocalGatewayConfiguration(
            host: host, port: port, region: region, credentials: credentials, verifiesSignatures: !noVerifySignatures,
            stateFile: stateFile, apis: apis, idleTimeout: .seconds(idleTimeout), maximumConnectionDuration: .seconds(maxDuration))
        configuration.outboundBufferLimit = outboundBuffer
        configuration.maximumConnections = maxConnections
        configuration.connectRateLimit = connectRate
        configuration.accountID = accountID
        configuration.accessLogDestination = accessLog == "-" ? .standardOutput : .file(accessLog)
        for pair in authorizerFunctions {
            guard let equals = pair.firstIndex(of: "="), pair.index(after: equals) < pair.endIndex,
                pair[pair.index(after: equals)...].hasPrefix("http")
            else {
                throw ValidationError("--authorizer-function takes ARN=URL with an http(s) URL, not \(pair)")
            }
            configuration.authorizerFunctions[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        if let callbackRate { configuration.callbackRateLimit = (rate: callbackRate, burst: callbackBurst ?? max(1, callbackRate / 2)) }
        let gateway = LocalGateway(configuration: configuration, logger: logger)
        let group = ServiceGroup(services: [gateway], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
