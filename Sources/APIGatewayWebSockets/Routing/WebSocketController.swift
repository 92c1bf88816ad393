public import HTTPTypes

/// Serves one API Gateway route: its messages, and for the `$default` controller the connect
/// and disconnect events too.
///
/// A controller declares its ``routeKey`` and registers named handlers. Inside the route, a
/// message picks its handler by the body's `handler` key, then its `action` key, then the
/// `default` handler; a name nobody registered goes to `default`. Only registered handlers can be
/// reached.
///
/// ```swift
/// struct NotificationsController: WebSocketController {
///     let routeKey: RouteKey = "notifications"
///
///     struct Subscribe: Decodable, Sendable { let topic: String }
///
///     func handlers(_ handlers: inout HandlerRegistry) {
///         handlers.on("subscribe", Subscribe.self) { message, context in
///             try await context.reply(["subscribed": message.topic])
///         }
///     }
/// }
/// ```
///
/// The `$connect` and `$disconnect` routes are served at the base path next to `$default`, so the
/// ``connect(_:)`` and ``disconnect(_:)`` hooks run on the controller whose key is
/// ``RouteKey/default``; a custom route's controller only ever receives messages.
public protocol WebSocketController: Sendable {
    /// The route key of the API Gateway route that reaches this controller.
    var routeKey: RouteKey { get }

    /// When set, only events from this API reach the controller; others are refused with 403.
    var pinnedAPI: APIID? { get }

    /// Who may send this controller's messages; each handler may require more. `nil`: anyone.
    var requirement: Requirement? { get }

    /// Who may connect, checked on the `$default` controller once the user is known. `nil`: anyone.
    var connectRequirement: Requirement? { get }

    /// Whether the route is two-way: API Gateway sends the integration's response back to the
    /// sender as a frame. On a two-way route the first reply to the sender travels in that
    /// response, with no `@connections` post; provisioning gives the route its `$default` route
    /// response. For the `$default` controller it is the `$default` route's. The default: `false`.
    var twoWay: Bool { get }

    /// Registers the controller's handlers. Called once, when the controller is registered.
    func handlers(_ handlers: inout HandlerRegistry)

    /// Decides whether a connecting client is accepted, and into which channel.
    /// The default accepts into the requested channel.
    func connect(_ context: ConnectContext) async throws -> ConnectDecision

    /// Runs after the session is marked disconnected. The default does nothing.
    func disconnect(_ context: DisconnectContext) async throws
}

extension WebSocketController {
    public var pinnedAPI: APIID? { nil }
    public var requirement: Requirement? { nil }
    public var connectRequirement: Requirement? { nil }
    public var twoWay: Bool { false }
    public func connect(_ context: ConnectContext) async throws -> ConnectDecision { .accept }
    public func disconnect(_ context: DisconnectContext) async throws {}
}

/// A connect hook's verdict.
public struct ConnectDecision: Sendable {
    enum Kind: Sendable {
        case accept(channel: ChannelName?, userID: String?)
        case reject(Refusal)
    }

    let kind: Kind

    /// The channel the hook chose, if it chose one.
    var chosenChannel: ChannelName? {
        if case .accept(let channel, _) = kind { return channel }
        return nil
    }

    /// Accept into the channel the client asked for (`?channel=`), or the gateway's default.
    public static let accept = ConnectDecision(kind: .accept(channel: nil, userID: nil))

    /// Accept, putting the connection into `channel` (instead of the requested one; the channel
    /// rules apply to a client's choice, not to the hook's) and recording the user it belongs to.
    public static func accept(channel: ChannelName? = nil, userID: String? = nil) -> ConnectDecision {
        ConnectDecision(kind: .accept(channel: channel, userID: userID))
    }

    /// Reject the handshake: API Gateway answers the client's upgrade with `status`.
    public static func reject(status: HTTPResponse.Status, reason: String) -> ConnectDecision {
        ConnectDecision(
            kind: .reject(Refusal(code: .connectRejected, status: status, reason: reason, detail: "connect hook rejected: \(reason)")))
    }
}
