import APIGatewayWebSockets
import APIGatewayWebSocketsTesting
import Logging

/// APIGatewayWebSockets.docc/GettingStarted.md
enum GettingStartedExamples {
    struct EchoController: WebSocketController {
        let routeKey = RouteKey.default

        struct Said: Encodable, Sendable {
            let type = "echo"
            let text: String
        }

        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.onRaw("default") { body, context in
                try await context.reply(Said(text: String(decoding: body.readableBytesView, as: UTF8.self)))
            }
        }
    }

    static func theSmallestApp() async throws {
        let poster = RecordingPoster()
        let apiID: APIID = "abc123defg"
        let dispatcher = GatewayDispatcher(
            store: InMemoryConnectionStore(),
            gateways: CachedGatewayDirectory([GatewayRecord(apiID: apiID, stage: "test", region: "eu-west-1")]),
            poster: poster)
        let endpoints = try dispatcher.register(EchoController())  // POST /ws/connect, /ws/disconnect, /ws/default

        let fake = FakeAPIGateway(apiID: apiID, routes: endpoints.map(\.route), transport: DispatcherTransport(dispatcher: dispatcher))
        let client = try await fake.connect()
        try await client.send("hello")
        print(poster.texts(to: client.id))  // ["{\"text\":\"hello\",\"type\":\"echo\"}"]
        try await client.disconnect()
    }
}

// APIGatewayWebSockets.docc/AddingARoute.md, step 1: the tests of step 4 use it.
struct NotificationsController: WebSocketController {
    let routeKey: RouteKey = "notifications"

    struct Topic: Decodable, Sendable { let topic: String }
    struct Subscribed: Encodable, Sendable {
        let type = "subscribed"
        let topic: String
    }

    func handlers(_ handlers: inout HandlerRegistry) {
        handlers.on("subscribe", Topic.self) { message, context in
            try await context.join(try ChannelName("topic-" + message.topic))
            try await context.reply(Subscribed(topic: message.topic))
        }
        handlers.on("unsubscribe", Topic.self) { message, context in
            try await context.leave(try ChannelName("topic-" + message.topic))
            try await context.reply(["unsubscribed": message.topic])
        }
        handlers.onRaw("default") { _, _ in
            throw Refusal(status: .badRequest, reason: "Say subscribe or unsubscribe")
        }
    }
}

// APIGatewayWebSockets.docc/AddingARoute.md, "Two-way: the reply in the response".
struct ProfileController: WebSocketController {
    let routeKey: RouteKey = "profile"
    let twoWay = true

    func handlers(_ handlers: inout HandlerRegistry) {
        handlers.onRaw("default") { _, context in
            try await context.reply(["user": context.session.userID ?? "anonymous"])
        }
    }
}

/// APIGatewayWebSockets.docc/IdentityAndChannels.md
enum IdentityAndChannelsExamples {
    struct MembersController: WebSocketController {
        let routeKey = RouteKey.default

        func connect(_ context: ConnectContext) async throws -> ConnectDecision {
            guard let user = context.authenticatedUser?.id ?? context.tokenUserID else {
                return .reject(status: .unauthorized, reason: "Log in first")
            }
            context.logger.debug("connected", metadata: ["user": "\(user)"])
            return .accept(userID: user)
        }

        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.addChannelHandlers()
        }
    }

    static func tokens() async throws {
        let store = InMemoryConnectionStore()
        let tokens = ConnectionTokens(store: store, lifetime: .seconds(60), perUserPerMinute: 10)
        let issued = try await tokens.issue(userID: "ada", webSessionID: "the login's session id")
        print(issued.token, issued.expiresAt)  // the page connects with ?ws_token=…
    }

    static func originsAndRateLimits() -> GatewayConfiguration {
        var configuration = GatewayConfiguration(secrets: ["replace-with-16-or-more-random-characters"])
        configuration.allowedOrigins = ["http://127.0.0.1:8080", "chat.example.com"]  // a whole origin, or a host on any scheme and port
        configuration.connectRateLimits = .init(perAddress: .init(120, per: .seconds(60)), perUser: .init(60, per: .seconds(60)))
        configuration.trustedProxies = 0  // proxies of yours that append to X-Forwarded-For
        return configuration
    }

    static func gatewayIdentity(secret: String) -> GatewayConfiguration {
        var configuration = GatewayConfiguration(secrets: [secret])
        configuration.gatewayIdentity = .authorizerPrincipal()
        return configuration
    }

    struct EditorPermissions: PermissionSource {
        let editors: Set<String>

        func user(_ userID: String, has permission: Permission) async throws -> Bool {
            permission == "editor" && editors.contains(userID)
        }
    }

    struct NewsroomController: WebSocketController {
        let routeKey: RouteKey = "newsroom"
        let requirement: Requirement? = .authenticated

        struct Story: Decodable, Sendable { let headline: String }

        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.on("publish", Story.self, requires: .any(.permission(.staff), .permission("editor"))) { story, context in
                try await context.send(["headline": story.headline], to: .everyone)
            }
        }
    }

    struct AccountStates: AuthStateSource {
        /// The account's password hash and active flag, from your user table; `nil` when it is gone.
        let lookup: @Sendable (String) async throws -> (passwordHash: String, isActive: Bool)?

        func authState(ofUser userID: String) async throws -> String? {
            guard let account = try await lookup(userID), account.isActive else { return nil }
            return account.passwordHash
        }
    }

    static func whenALoginEnds(dispatcher: GatewayDispatcher, webSessionID: String) async throws {
        try await dispatcher.closeConnections(ofWebSession: webSessionID)  // a logout: that login's sockets and unused tokens
        try await dispatcher.closeConnections(ofUser: "ada")  // a password change: every socket of the user
    }

    static func channels() async throws -> GatewayConfiguration {
        let store = InMemoryConnectionStore()
        try await store.saveChannelRule(ChannelRule(channel: "staff", access: .staff))
        try await store.saveChannelRule(
            ChannelRule(channel: "ops", access: .permissionSets([["ops.read", "ops.write"], ["admin"]])))

        var configuration = GatewayConfiguration(secrets: ["replace-with-16-or-more-random-characters"])
        configuration.channels = ChannelConfiguration(unlisted: .deny, presenceEvents: true) { join in
            join.channel.rawValue.hasPrefix("dm-") ? .allow : .useRules  // code decides first, if it wants
        }
        return configuration
    }

    struct WhoIsHereController: WebSocketController {
        let routeKey: RouteKey = "who"

        func handlers(_ handlers: inout HandlerRegistry) {
            handlers.onRaw("default") { _, context in
                let lobby: ChannelName = "lobby"
                guard try await context.joinedChannels().contains(lobby) else {
                    throw Refusal(status: .forbidden, reason: "Join the lobby first")
                }
                try await context.reply(["users": try await context.channels.users(in: lobby, apiID: context.gateway.apiID)])
            }
        }
    }
}

/// APIGatewayWebSockets.docc/Scaling.md
enum ScalingExamples {
    static func behindALoadBalancer() -> GatewayConfiguration {
        var configuration = GatewayConfiguration(secrets: ["replace-with-16-or-more-random-characters"])
        configuration.trustedProxies = 1  // one ALB between API Gateway and the instances
        return configuration
    }
}
