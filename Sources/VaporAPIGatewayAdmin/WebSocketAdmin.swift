import APIGatewayWebSockets
import APIGatewayAWS
import Foundation
import Leaf
import LeafKit
import NIOCore
public import Vapor
public import VaporAPIGatewayWebSockets

/// The admin door: Leaf pages under `/admin/websockets` for users holding ``Permission/admin``,
/// onto the same provisioner the `gateway` commands use and the same store the framework uses.
/// Every form carries a CSRF token bound to the web session; every write is refused from another
/// site (`Sec-Fetch-Site: cross-site`, or an `Origin` the gateway's allowed origins do not list).
///
/// ```swift
/// let admin = WebSocketAdmin(gateway: gateway, provisioner: GatewayProvisioner(gateway: gateway) { region in … })
/// try admin.register(on: app)
/// ```
public struct WebSocketAdmin: Sendable {
    public let gateway: WebSocketGateway
    public let provisioner: GatewayProvisioner
    /// Where the pages live, without a trailing slash (`""` at the root). Default `/admin/websockets`.
    public let path: String
    /// Where someone who is not logged in is sent to log in. Default `/`.
    public let loginPath: String
    let viewsDirectory: String

    public init(gateway: WebSocketGateway, provisioner: GatewayProvisioner, path: String = "/admin/websockets", loginPath: String = "/") {
        self.gateway = gateway
        self.provisioner = provisioner
        let components = path.split(separator: "/")
        self.path = components.isEmpty ? "" : "/" + components.joined(separator: "/")
        self.loginPath = loginPath
        self.viewsDirectory = Bundle.module.resourceURL!.appendingPathComponent("Views").path + "/"
    }

    /// Serves the pages on `app`, behind the gateway's login and an administrator check.
    /// - Throws: ``AdminError`` when the gateway has no ``ConnectAuthentication`` (the pages need
    ///   to know who is asking).
    public func register(on app: Application) throws {
        guard let authentication = gateway.authentication else { throw AdminError.noLogin }
        let components = path.split(separator: "/").map { PathComponent.constant(String($0)) }
        // The style sheet is static: served to everyone, so the login and refusal pages are styled too.
        let css = try String(contentsOfFile: viewsDirectory + "admin.css", encoding: .utf8)
        app.grouped(components).get("admin.css") { _ in
            Response(status: .ok, headers: ["Content-Type": "text/css; charset=utf-8"], body: .init(string: css))
        }
        let root = app.grouped(authentication.guardedMiddleware).grouped(AdminGuard(admin: self, authentication: authentication))
            .grouped(components)
        registerGateways(on: root)
        registerLive(on: root)
    }

    // MARK: Rendering

    /// Renders `template` (a file in the module's `Views`) with `context`.
    func render(_ template: String, _ context: some Encodable, for request: Request, status: HTTPResponseStatus = .ok) async throws
        -> Response
    {
        let renderer = LeafRenderer(
            configuration: LeafConfiguration(rootDirectory: viewsDirectory),
            tags: LeafKit.defaultTags,
            sources: .singleSource(
                NIOLeafFiles(
                    fileio: request.application.fileio, limits: [.toSandbox, .requireExtensions], sandboxDirectory: viewsDirectory,
                    viewDirectory: viewsDirectory)
            ),
            eventLoop: request.eventLoop
        )
        // Only an administrator's pages carry forms: a visitor refused 401 or 403 gets no CSRF
        // token, so no web session is stored for someone who has not logged in.
        let page = Page(
            base: path, csrf: request.adminUser == nil ? "" : csrfToken(request), user: request.adminUser ?? "", content: context)
        let body = try await renderer.render(path: template, context: page).get()
        var headers = HTTPHeaders()
        headers.contentType = .html
        headers.add(name: "Content-Security-Policy", value: "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
        headers.add(name: "X-Frame-Options", value: "DENY")
        return Response(status: status, headers: headers, body: .init(buffer: body))
    }

    /// What every page gets: the base path, the CSRF token, the administrator's name, its own content.
    struct Page<Content: Encodable>: Encodable {
        let base: String
        let csrf: String
        let user: String
        let content: Content
    }

    struct Message: Encodable {
        let title: String
        let message: String
    }

    /// The web session's CSRF token, made on first use.
    func csrfToken(_ request: Request) -> String {
        if let token = request.session.data[Self.csrfKey] { return token }
        var generator = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        request.session.data[Self.csrfKey] = token
        return token
    }

    static let csrfKey = "apigw.admin.csrf"

    /// A redirect after a write, to `page` under the admin's path.
    func redirect(_ page: String) -> Response { Response(status: .seeOther, headers: ["Location": path + page]) }
}

/// The admin cannot be served.
public struct AdminError: Error, Sendable, CustomStringConvertible {
    public let description: String
    static let noLogin = AdminError(description: "the admin needs the gateway's ConnectAuthentication, to know who is asking")
}

/// Lets administrators in: 401 (with a way to log in) without a login, 403 without
/// ``Permission/admin``; on a write, the CSRF token and the origin are checked too.
struct AdminGuard: AsyncMiddleware {
    let admin: WebSocketAdmin
    let authentication: ConnectAuthentication

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let user = authentication.user(request) else {
            return try await admin.render(
                "message.leaf",
                WebSocketAdmin.Message(
                    title: "Log in first", message: "The WebSocket admin is for administrators: log in at \(admin.loginPath)."),
                for: request, status: .unauthorized)
        }
        // A login made before a password change, a deactivation or a demotion opens nothing.
        guard try await admin.gateway.dispatcher.loginHolds(user) else {
            return try await admin.render(
                "message.leaf",
                WebSocketAdmin.Message(
                    title: "Log in again", message: "Your login is no longer valid: log in again at \(admin.loginPath)."),
                for: request, status: .unauthorized)
        }
        let permissions = admin.gateway.dispatcher.permissions
        guard let permissions, try await permissions.user(user.id, has: .admin) else {
            return try await admin.render(
                "message.leaf", WebSocketAdmin.Message(title: "Administrators only", message: "\(user.id) is not an administrator."),
                for: request, status: .forbidden)
        }
        request.storage[AdminUserKey.self] = user.id
        guard request.method == .POST else { return try await next.respond(to: request) }
        // Every write an administrator makes, allowed or not, goes in the audit log.
        do {
            if let refused = CrossSiteWrite.of(request, configuration: admin.gateway.dispatcher.configuration) {
                throw Abort(.forbidden, reason: refused.reason)
            }
            let presented = (try? request.content.get(String.self, at: "csrf")) ?? ""
            let expected = request.session.data[WebSocketAdmin.csrfKey] ?? ""
            guard !expected.isEmpty, ConstantTime.equals(presented, expected) else { throw Abort(.forbidden, reason: "Missing or wrong CSRF token: reload the page and try again") }
            let response = try await next.respond(to: request)
            await audit(request, by: user.id, outcome: response.status.code < 400 ? "ok" : "refused \(response.status.code)")
            return response
        } catch {
            let status = (error as? any AbortError)?.status.code
            await audit(request, by: user.id, outcome: status.map { "refused \($0)" } ?? "failed")
            throw error
        }
    }

    /// The fields that name what a write acts on, in the order they are shown.
    static let targetFields = ["name", "channel", "connection_id", "hash", "key", "audience", "target", "api_id", "route_key", "domain"]

    /// Records the write `request` asked for; a log that cannot be written is logged, never the
    /// reason a write fails.
    private func audit(_ request: Request, by actor: String, outcome: String) async {
        let path = request.url.path
        let action = path.hasPrefix(admin.path) ? String(path.dropFirst(admin.path.count).drop { $0 == "/" }) : path
        let fields = Self.targetFields.compactMap { name in
            (try? request.content.get(String.self, at: name)).flatMap { $0.isEmpty ? nil : "\(name)=\($0.prefix(128))" }
        }
        let entry = AuditEntry(at: Date(), actor: actor, action: action, target: fields.joined(separator: " "), outcome: outcome)
        do { try await admin.gateway.auditLog.record(entry) } catch {
            request.logger.error("the audit log could not be written", metadata: ["apigw.error": "\(error)"])
        }
    }
}

struct AdminUserKey: StorageKey { typealias Value = String }

extension Request {
    var adminUser: String? { storage[AdminUserKey.self] }
}
