public import APIGatewayWebSockets
import Fluent
import FluentKit
import HTTPTypes
import NIOCore
import SQLKit
import Synchronization
public import Vapor

/// The framework in a Vapor app: registers controllers as Vapor routes, tracks sessions in the
/// app's database, and keeps the registered API Gateway APIs cached.
///
/// ```swift
/// app.migrations.add(WebSocketMigrations.all)
/// try await app.autoMigrate()
///
/// let gateway = WebSocketGateway(app: app, configuration: .init(secrets: ["s3cret"]), poster: poster)
/// try gateway.register(ChatController())                                         // /ws/connect, /ws/disconnect, /ws/default
/// try gateway.register(NotificationsController(), at: "/websockets/notifications/")  // the `notifications` route
/// try await gateway.registerGateway(GatewayRecord(apiID: "abc123defg", stage: "production", region: "eu-west-1"))
/// ```
public final class WebSocketGateway: Sendable {
    /// The core dispatcher, for its routes, store and messenger.
    public let dispatcher: GatewayDispatcher
    /// The cached directory of registered APIs, loaded from `apigw_gateways`.
    public let directory: CachedGatewayDirectory
    /// What `gateway apply` and the other provisioning doors may do.
    public let provisioning: ProvisioningOptions
    let routes: any RoutesBuilder & Sendable
    /// How `$connect` and the token endpoint find the app's logged-in user; `nil`: no login.
    public let authentication: ConnectAuthentication?
    private let controllers = Mutex<[any WebSocketController]>([])
    /// The path of the token endpoint, once ``serveConnectionTokens(at:lifetime:perUserPerMinute:)`` serves it.
    let tokenEndpoint = Mutex<String?>(nil)
    /// What pages need to connect; see ``clientSettings``.
    let clientSettingsBox = Mutex<ClientSettings?>(nil)
    private let maxCollectedBody: ByteCount
    /// The database that holds sessions and gateway records.
    let database: @Sendable () -> any Database
    /// The admin's writes, in the store's database.
    public let auditLog: AuditLog
    /// With streams on, the delivery worker: it runs under the app's lifecycle (from the boot,
    /// shut down gracefully with the app), delivers what transactions published and what a dead
    /// instance left, and prunes the history. Every instance runs one.
    let deliveryWorker: DeliveryWorker?

    /// - Parameters:
    ///   - app: the application whose database holds sessions and gateways, and whose routes serve
    ///     API Gateway.
    ///   - configuration: the secrets, origins, limits, channel policy and base path.
    ///   - store: where sessions live; the app's database by default.
    ///   - poster: how messages reach clients.
    ///   - provisioning: the integration hosts and two-way routes provisioning may create.
    ///   - authentication: how `$connect` and the token endpoint find the app's logged-in user.
    ///   - permissions: the app's permissions, for controllers' and handlers' requirements and
    ///     channel rules.
    ///   - authState: the app's login state of a user, so a password change or deactivation ends
    ///     the user's connections on their next message.
    public init(
        app: Application,
        configuration: GatewayConfiguration = GatewayConfiguration(),
        store: (any ConnectionStore)? = nil,
        poster: any ConnectionPoster,
        provisioning: ProvisioningOptions = ProvisioningOptions(),
        authentication: ConnectAuthentication? = nil,
        permissions: (any PermissionSource)? = nil,
        authState: (any AuthStateSource)? = nil
    ) {
        let database: @Sendable () -> any Database = { app.db }
        let directory = CachedGatewayDirectory.gatewayRecords(in: database)
        self.database = database
        self.auditLog = AuditLog { [store] in
            if let fluent = store as? FluentConnectionStore { return try fluent.sqlDatabase }
            guard let sql = database() as? any SQLDatabase else { throw StoreError.notSQL }
            return sql
        }
        self.provisioning = provisioning
        self.directory = directory
        self.routes = app.routes
        self.authentication = authentication
        // Collect a little more than the limit so the guard, not Vapor, answers an oversize body.
        self.maxCollectedBody = ByteCount(value: configuration.maxBodySize + 1024)
        let dispatcher = GatewayDispatcher(
            configuration: configuration,
            store: store ?? FluentConnectionStore(database: database),
            gateways: directory,
            poster: poster,
            permissions: permissions,
            authState: authState,
            logger: app.logger
        )
        self.dispatcher = dispatcher
        self.deliveryWorker = dispatcher.streams.map { DeliveryWorker(streams: $0, logger: app.logger) }
        app.storage[Key.self] = self
        if let deliveryWorker { app.lifecycle.use(ServiceLifecycleHandler(deliveryWorker)) }
        app.lifecycle.use(StartupCheckLifecycle(gateway: self))
        app.lifecycle.use(DrainBeforeShutdown())
        app.asyncCommands.use(GatewayCommands(), as: "gateway")
        app.asyncCommands.use(SessionsCommands(), as: "sessions")
        app.asyncCommands.use(CleanupCommand(), as: "cleanup")
        app.asyncCommands.use(ChannelsCommands(), as: "channels")
        app.asyncCommands.use(PublishCommand(), as: "publish")
    }

    /// The controllers registered so far.
    var registeredControllers: [any WebSocketController] { controllers.withLock { $0 } }

    /// Every route key with the path it is served at, in registration order.
    public var registeredRoutes: [RegisteredRoute] { dispatcher.routes }

    /// Registers `controller` and serves it: the `$default` controller at
    /// `/{basePath}/connect|disconnect|default`, a custom route's at `path` (by default
    /// `/{basePath}/{routeKey}`).
    /// - Throws: `RegistrationError` when its route key or path is taken.
    public func register(_ controller: some WebSocketController, at path: String? = nil) throws {
        let endpoints = try dispatcher.register(controller, at: path)
        controllers.withLock { $0.append(controller) }
        for endpoint in endpoints {
            let components = endpoint.route.path.split(separator: "/").map { PathComponent.constant(String($0)) }
            // `$connect` runs through the app's login (API Gateway forwards the cookie on it only).
            let login = endpoint.route.event == .connect ? authentication : nil
            (login.map { routes.grouped($0.guardedMiddleware) } ?? routes).on(
                .POST, components, body: .collect(maxSize: maxCollectedBody),
                use: EndpointResponder(dispatcher: dispatcher, endpoint: endpoint, user: login?.user).respond)
        }
    }

    /// Records an API Gateway API in the database (or updates the one with the same API id) and
    /// reloads the cache, so its events are accepted at once.
    /// - Throws: `GatewayRecordError` for a stage, region or endpoint API Gateway would not have.
    public func registerGateway(_ record: GatewayRecord) async throws {
        try record.validate()
        let db = database()
        let model = try await GatewayModel.query(on: db).filter(\.$apiID == record.apiID.rawValue).first() ?? GatewayModel(record)
        model.stage = record.stage
        model.region = record.region
        model.defaultChannel = record.defaultChannel?.rawValue
        model.managementEndpoint = record.managementEndpoint?.description
        try await model.save(on: db)
        try await directory.reload()
    }

    struct Key: StorageKey { typealias Value = WebSocketGateway }
}

/// Answers the Vapor requests of one endpoint through the dispatcher.
struct EndpointResponder: Sendable {
    let dispatcher: GatewayDispatcher
    let endpoint: Endpoint
    let user: (@Sendable (Request) -> AuthenticatedUser?)?

    @Sendable func respond(_ request: Request) async -> Response {
        var gatewayRequest = GatewayRequest(request)
        gatewayRequest.authenticatedUser = user?(request)
        return Response(await dispatcher.handle(gatewayRequest, at: endpoint))
    }
}

extension Application {
    /// The ``WebSocketGateway`` created for this application, if any.
    public var webSocketGateway: WebSocketGateway? { storage[WebSocketGateway.Key.self] }
}

extension GatewayRequest {
    /// The core's view of a Vapor request: method, path, query, headers and collected body.
    public init(_ request: Request) {
        self.init(
            method: HTTPRequest.Method(request.method.rawValue) ?? .post,
            path: request.url.path,
            query: request.url.query,
            headerFields: Self.headerFields(request.headers),
            body: request.body.data ?? ByteBuffer()
        )
    }

    /// Vapor's headers as swift-http-types' fields (a name HTTP does not allow is left out).
    static func headerFields(_ headers: HTTPHeaders) -> HTTPFields {
        var fields = HTTPFields()
        fields.reserveCapacity(headers.count)
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return fields
    }
}

extension Response {
    /// A Vapor response carrying the core's answer.
    public convenience init(_ response: GatewayResponse) {
        var headers = HTTPHeaders()
        for field in response.headerFields { headers.add(name: field.name.rawName, value: field.value) }
        self.init(status: HTTPResponseStatus(statusCode: response.status.code), headers: headers, body: .init(buffer: response.body))
    }
}
