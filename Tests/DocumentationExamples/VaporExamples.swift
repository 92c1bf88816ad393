import APIGatewayAWS
import APIGatewayProvisioning
import APIGatewayWebSockets
import Fluent
import Vapor
import VaporAPIGatewayWebSockets

/// The Vapor door's examples, and the articles whose examples run in a Vapor app.
enum VaporExamples {
    /// APIGatewayWebSockets.docc/AddingARoute.md, step 2.
    static func registerNotifications(gateway: WebSocketGateway, app: Application) throws {
        try gateway.register(NotificationsController(), at: "/websockets/notifications/")  // POST /websockets/notifications/
        for route in gateway.registeredRoutes { app.logger.info("\(route)") }  // notifications → POST /websockets/notifications/
    }

    /// VaporQuickStart.md, a page that connects.
    static func page(app: Application, gateway: WebSocketGateway) throws {
        let webSocketURL = Environment.get("WS_URL") ?? "ws://127.0.0.1:8081/API_ID/local"
        try gateway.serveClientScript()  // GET /apigw-websockets.js
        app.get { _ -> Response in
            let settings = ClientSettings(url: webSocketURL, tokenURL: nil, channels: ["lobby"])
            let html = """
                <!doctype html>
                <script type="application/json" id="apigw-settings">\(settings.scriptJSON)</script>
                <script type="module">
                  import { GatewaySocket } from "/apigw-websockets.js";
                  const socket = GatewaySocket.fromPage();
                  socket.addEventListener("message", (event) => console.log(event.detail));
                  await socket.connect();
                  socket.send({ action: "sendmessage", text: "hello" });
                </script>
                """
            return Response(status: .ok, headers: ["Content-Type": "text/html; charset=utf-8"], body: .init(string: html))
        }
    }

    /// APIGatewayWebSockets.docc/PythonPackageNames.md
    static func sendsAsThePythonPackageDoes(gateway: WebSocketGateway) async throws {
        try await gateway.send(["msg": "hi"], to: .channel("lobby"))  // filter(channel_name="lobby").send_message(…)
        try await gateway.send(["msg": "hi"], to: .user("ada"))  // the user's connections
        try await gateway.send(["msg": "hi"], to: .everyone)  // every connected session
    }

    /// SendingFromAnywhere.md, from a route.
    static func fromARoute(app: Application) {
        struct Announcement: Encodable, Sendable {
            let type = "announcement"
            let text: String
        }

        app.post("announce") { request async throws -> String in
            guard let gateway = request.webSocketGateway else { throw Abort(.serviceUnavailable) }
            let report = try await gateway.send(Announcement(text: "Back in 5 minutes"), to: .everyone)
            return "sent to \(report.sent), gone \(report.gone.count), failed \(report.failedCount)"
        }
    }

    /// SendingFromAnywhere.md, from a job or a command.
    static func fromAJob(app: Application) async throws {
        guard let gateway = app.webSocketGateway else { return }
        let lobby: ChannelName = "lobby"
        try await gateway.send(text: "The nightly export is ready", to: .channel(lobby))
        try await gateway.send(["type": "progress", "percent": "100"], to: .user("ada"))
    }

    /// SendingFromAnywhere.md, choosing the API.
    static func choosingTheAPI(gateway: WebSocketGateway) async throws {
        let report = try await gateway.send(text: "hello", to: .everyone, on: "abc123defg")
        print(report)
    }

    /// SendingFromAnywhere.md, from a handler.
    struct BroadcastController: WebSocketController {
        let routeKey: RouteKey = "broadcast"

        struct Note: Codable, Sendable { let text: String }

        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.on("default", Note.self, requires: .permission(.staff)) { note, context in
                let report = try await context.send(note, to: .everyone)
                try await context.reply(["delivered": report.sent])
            }
        }
    }

    /// SendingFromAnywhere.md, without Vapor.
    static func withoutVapor(dispatcher: GatewayDispatcher) async throws {
        guard let record = try await dispatcher.gateways.gateway("abc123defg") else { return }
        let report = try await dispatcher.messenger.send(try Payload(json: ["type": "hello"]), to: .everyone, on: record)
        print(report)
    }

    /// APIGatewayProvisioning.docc/Provisioning.md, from code.
    static func provisionFromCode(gateway: WebSocketGateway, app: Application, publicURL: String) async throws {
        let provisioner = GatewayProvisioner(gateway: gateway) { region in
            ControlPlaneClient(httpClient: app.http.client.shared, credentials: CredentialProviderChain.default(), region: region)
        }
        try await provisioner.configure(GatewaySettings(name: "chat", targetBaseURL: publicURL, stage: "production", region: "eu-west-1"))
        print(try await provisioner.plan("chat"))
        let applied = try await provisioner.apply("chat") { step in app.logger.info("applied: \(step)") }
        print(applied.apiID, applied.apiEndpoint ?? "")
    }

    /// APIGatewayProvisioning.docc/Provisioning.md, the exports.
    static func exports(dispatcher: GatewayDispatcher, publicURL: String) throws {
        let desired = DesiredAPI(
            name: "chat", stage: "production", routes: dispatcher.routes, publicBaseURL: publicURL,
            secret: dispatcher.configuration.secrets.first)
        print(try InfrastructureExport.cloudFormationYAML(desired))  // AWS::ApiGatewayV2::Api, integrations, routes, stage, deployment
        print(InfrastructureExport.terraform(desired))
        print(InfrastructureExport.consoleChecklist(desired))
    }

    /// APIGatewayProvisioning.docc/Provisioning.md, what API Gateway guards.
    static func guards(dispatcher: GatewayDispatcher, publicURL: String, secret: String) throws {
        var desired = DesiredAPI(
            name: "chat", stage: "production", routes: dispatcher.routes, publicBaseURL: publicURL,
            secret: dispatcher.configuration.secrets.first)
        desired.guards = DesiredAPI.Guards(
            connectAuthorization: .authorizer(
                DesiredAPI.Authorizer(
                    name: "tokens", functionARN: "arn:aws:lambda:eu-west-1:123456789012:function:ws-authorizer",
                    identitySource: ["route.request.querystring.token"])),
            defaultThrottle: .init(rate: 50, burst: 100),
            accessLog: .init(logGroupName: "chat-ws", destinationARN: "arn:aws:logs:eu-west-1:123456789012:log-group:chat-ws"))
        desired.mapIdentity(.authorizerPrincipal(), secret: secret)  // the principal, and the proof it was mapped
        print(try Planner.plan(desired, existing: nil))
        print(IAMPolicies.run(region: "eu-west-1", account: "123456789012", apiID: "abc123defg", stage: "production").json())
    }

    /// APIGatewayProvisioning.docc/DeployToAWS.md, how the pages learn the WebSocket URL.
    static func pagesLearnTheURL(gateway: WebSocketGateway, app: Application) async throws {
        let provisioner = GatewayProvisioner(gateway: gateway) { region in
            ControlPlaneClient(httpClient: app.http.client.shared, credentials: CredentialProviderChain.default(), region: region)
        }
        let record = try await provisioner.model(named: "chat")
        if let endpoint = record.apiEndpoint {
            let url = record.customDomain.map { "wss://\($0)" } ?? endpoint + "/" + record.stage
            gateway.clientSettings = ClientSettings(url: url, tokenURL: "/ws/token", channels: ["lobby"])
        }
    }

    /// APIGatewayAWS.docc/SigningAndCredentials.md
    static func signing() {
        let credential = Credential(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        let signer = SigV4Signer(service: "execute-api", region: "eu-west-1")
        var request = SigV4Request(
            method: "POST", host: "abc123defg.execute-api.eu-west-1.amazonaws.com",
            path: "/production/%40connections/L0SM9cOFvHcCIhw%3D", body: Array(#"{"text":"hi"}"#.utf8))
        signer.sign(&request, credential: credential)
        print(request.header("Authorization") ?? "")  // AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/…/eu-west-1/execute-api/aws4_request, …
    }

    static func credentials() async throws {
        let credentials = CredentialProviderChain.default()
        let credential = try await credentials.credential()
        print(credential)  // Credential(AKIA…, secret: <redacted>)
    }

    static func posting() async throws {
        let http = ManagementClient.makeHTTPClient(maximumConnections: 64)
        let client = ManagementClient(httpClient: http, credentials: CredentialProviderChain.default(httpClient: http))
        let endpoint = ManagementEndpoint.aws(apiID: "abc123defg", region: "eu-west-1", stage: "production")
        do {
            try await client.post(ByteBuffer(string: #"{"text":"hi"}"#), to: "L0SM9cOFvHcCIhw=", endpoint: endpoint, region: "eu-west-1")
            let info = try await client.connection("L0SM9cOFvHcCIhw=", endpoint: endpoint, region: "eu-west-1")
            print(info.connectedAt, info.sourceIP ?? "unknown")
            try await client.deleteConnection("L0SM9cOFvHcCIhw=", endpoint: endpoint, region: "eu-west-1")
        } catch let error as AWSError where error.isGone {
            print("the client has gone")
        }
        try await http.shutdown()
    }

    static func controlPlane() async throws {
        let controlPlane = ControlPlaneClient(
            httpClient: .shared, credentials: CredentialProviderChain.default(), region: "us-east-1", endpoint: "http://127.0.0.1:8081")
        for api in try await controlPlane.getApis() {
            print(api.apiId ?? "", api.name ?? "", api.apiEndpoint ?? "")
        }
    }
}

/// WebSessionsAndLogins.md
enum WebSessionsExamples {
    final class Account: Model, ModelSessionAuthenticatable, @unchecked Sendable {  // Fluent models are reference types
        static let schema = "accounts"

        @ID(key: .id) var id: UUID?
        @Field(key: "name") var name: String
        @Field(key: "password_hash") var passwordHash: String
        @Field(key: "is_active") var isActive: Bool

        init() {}

        /// What a login holds while it is valid: a password change or a deactivation ends it.
        var loginState: String { "\(passwordHash)|\(isActive)" }
    }

    struct CreateAccounts: AsyncMigration {
        func prepare(on database: any Database) async throws {
            try await database.schema(Account.schema).id()
                .field("name", .string, .required)
                .field("password_hash", .string, .required)
                .field("is_active", .bool, .required)
                .unique(on: "name")
                .create()
        }

        func revert(on database: any Database) async throws {
            try await database.schema(Account.schema).delete()
        }
    }

    /// The login state of a user, for the framework: `nil` when the account is gone or inactive.
    struct AccountStates: AuthStateSource {
        let database: @Sendable () -> any Database

        func authState(ofUser userID: String) async throws -> String? {
            guard let account = try await Account.query(on: database()).filter(\.$name == userID).first(), account.isActive else {
                return nil
            }
            return account.loginState
        }
    }

    /// Logs in the web session's account while its login holds: the session keeps the fingerprint of
    /// the state it was made with.
    struct AccountSessionAuthenticator: AsyncSessionAuthenticator {
        typealias User = Account
        static let stateKey = "apigw.authState"

        func authenticate(sessionID: UUID, for request: Request) async throws {
            guard let account = try await Account.find(sessionID, on: request.db), account.isActive,
                request.session.data[Self.stateKey] == AccountStates.fingerprint(account.loginState)
            else { return }
            request.auth.login(account)
        }
    }

    static func gatewayWithLogins(app: Application, secret: String, poster: any ConnectionPoster) async throws {
        let store = FluentConnectionStore { app.db }
        app.sessions.use(.database(store, policy: WebSessionPolicy(secureCookie: true)))
        app.migrations.add(CreateAccounts())
        try await app.autoMigrate()

        let login: [any Middleware] = [app.sessions.middleware, AccountSessionAuthenticator()]
        let gateway = WebSocketGateway(
            app: app,
            configuration: GatewayConfiguration(secrets: [secret], allowedOrigins: ["http://127.0.0.1:8080"]),
            store: store,
            poster: poster,
            authentication: ConnectAuthentication(middleware: login) { request in
                request.auth.get(Account.self).map {
                    AuthenticatedUser(
                        id: $0.name, webSessionID: request.session.id?.string,
                        authStateHash: request.session.data[AccountSessionAuthenticator.stateKey])
                }
            },
            authState: AccountStates { app.db })
        try gateway.serveConnectionTokens()  // POST /ws/token: {"token": "…", "expiresAt": "…"}
        gateway.scheduleCleanup(every: .seconds(600), on: app)
    }

    static func loggingInAndOut(app: Application, store: FluentConnectionStore, login: [any Middleware], gateway: WebSocketGateway) {
        struct LoginForm: Content {
            let name: String
            let password: String
        }

        let throttle = LoginThrottle(identity: store)
        let browser = app.grouped(login).grouped(SameOriginWrites(configuration: gateway.dispatcher.configuration))
        browser.post("login") { request async throws -> HTTPStatus in
            let form = try request.content.decode(LoginForm.self)
            do {
                try await throttle.admit(name: form.name, address: request.remoteAddress?.ipAddress)
            } catch let refusal as Refusal {
                throw Abort(.tooManyRequests, headers: ["Retry-After": "60"], reason: refusal.reason)
            }
            guard let account = try await Account.query(on: request.db).filter(\.$name == form.name).first(), account.isActive,
                try await request.password.async.verify(form.password, created: account.passwordHash)
            else { throw Abort(.unauthorized, reason: "Wrong name or password") }
            if let old = request.session.id {  // a fresh web session for the new login
                try await gateway.dispatcher.closeConnections(ofWebSession: old.string)
                try await request.application.sessions.driver.deleteSession(old, for: request).get()
                request.session.id = nil
                request.session.data = SessionData()
            }
            request.session.authenticate(account)
            request.session.data[AccountSessionAuthenticator.stateKey] = AccountStates.fingerprint(account.loginState)
            return .noContent
        }
        browser.post("logout") { request async throws -> HTTPStatus in
            if request.auth.has(Account.self), let session = request.session.id?.string {
                try await gateway.dispatcher.closeConnections(ofWebSession: session)
            }
            request.auth.logout(Account.self)
            request.session.destroy()
            return .noContent
        }
    }

    static func requestLogs(app: Application) {
        app.middleware = Middlewares()
        app.middleware.use(RequestLogging())
        app.middleware.use(ErrorMiddleware.default(environment: app.environment))
    }
}
