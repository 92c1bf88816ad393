import APIGatewayAWS
import APIGatewayWebSockets
import ChatCore
import Fluent
import Foundation
import Leaf
import LeafKit
import Vapor
import VaporAPIGatewayAdmin
import VaporAPIGatewayWebSockets

/// The chat's web side: the page at `/` (sign in, rooms, presence, messages) on the framework's
/// JavaScript client, its script and style, and the admin under `/admin/websockets`.
enum ChatPages {
    static let views = Bundle.module.resourceURL!.appendingPathComponent("Views").path + "/"

    struct PageContext: Encodable {
        let user: String?
        let staff: Bool
    }

    static func register(on app: Application, gateway: WebSocketGateway, login: [any Middleware], controlPlane: ChatControlPlane) throws {
        app.views.use(.leaf)
        app.leaf.sources = .singleSource(
            NIOLeafFiles(fileio: app.fileio, limits: [.toSandbox, .requireExtensions], sandboxDirectory: views, viewDirectory: views))
        ClientSettingsTag.register(on: app)
        try gateway.serveClientScript()
        app.grouped(login).get { request async throws -> Response in
            let user = request.auth.get(ChatUser.self)
            let page = PageContext(user: user?.name, staff: user.map { $0.isStaff || $0.isAdmin } ?? false)
            if user != nil && gateway.clientSettings == nil {
                return Response(status: .serviceUnavailable, body: "The chat's gateway is not provisioned yet: try again in a moment.")
            }
            let response = try await request.view.render("chat.leaf", page).encodeResponse(for: request).get()
            response.headers.replaceOrAdd(
                name: "Content-Security-Policy", value: "default-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'")
            response.headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
            return response
        }
        for (file, type, body) in try ChatAssets.files() {
            app.get(PathComponent(stringLiteral: file)) { _ in
                Response(status: .ok, headers: ["Content-Type": type, "Cache-Control": "no-cache"], body: .init(string: body))
            }
        }
        let admin = WebSocketAdmin(gateway: gateway, provisioner: controlPlane.provisioner(for: gateway, app: app))
        try admin.register(on: app)
    }
}

/// Where the chat's provisioner reaches API Gateway's control plane: the embedded local gateway
/// (signed with its development keys), or AWS (the credential chain).
public struct ChatControlPlane: Sendable {
    /// The endpoint, asked when a client is made (the embedded gateway's port is known once it
    /// listens); `nil`: AWS's own endpoint for the record's region.
    public var endpoint: @Sendable () -> String?
    public var credentials: Credential?

    public init(endpoint: @escaping @Sendable () -> String?, credentials: Credential?) {
        self.endpoint = endpoint
        self.credentials = credentials
    }

    public init(endpoint: String?, credentials: Credential?) {
        self.init(endpoint: { endpoint }, credentials: credentials)
    }

    func provisioner(for gateway: WebSocketGateway, app: Application) -> GatewayProvisioner {
        let http = app.http.client.shared
        let credentials: any CredentialProvider =
            self.credentials.map { StaticCredentialProvider($0) } ?? CredentialProviderChain.default(httpClient: http)
        let endpoint = self.endpoint
        return GatewayProvisioner(gateway: gateway) { region in
            ControlPlaneClient(httpClient: http, credentials: credentials, region: region, endpoint: endpoint())
        }
    }
}
