import APIGatewayProvisioning
import APIGatewayWebSockets
import Fluent
import Foundation
import Vapor
import VaporAPIGatewayWebSockets

/// Gateways: list, create and edit, plan as a diff, apply with its steps as they happen, custom
/// domain, import, export, secret rotation, additional routes; all through `GatewayProvisioner`.
extension WebSocketAdmin {
    struct GatewayRow: Encodable {
        let name: String
        let status: String
        let apiID: String
        let socketURL: String
        let lastError: String
    }

    struct CodeRoute: Encodable {
        let routeKey: String
        let path: String
        let integrationURL: String
    }

    struct Dashboard: Encodable {
        let gateways: [GatewayRow]
        let routes: [CodeRoute]
    }

    struct GatewayForm: Encodable {
        let isNew: Bool
        let settings: GatewaySettings
        let error: String
    }

    struct PlanLine: Encodable {
        let kind: String  // add, change, remove, keep
        let text: String
    }

    struct AdditionalRow: Encodable {
        let name: String
        let routeKey: String
        let integrationURL: String
        let deployed: Bool
    }

    struct GatewayPage: Encodable {
        let gateway: GatewayRow
        let settings: GatewaySettings
        let routes: [CodeRoute]
        let additional: [AdditionalRow]
        let plan: [PlanLine]
        let planError: String
        let notice: String
    }

    func row(_ model: GatewayModel) -> GatewayRow {
        GatewayRow(
            name: model.name, status: model.status.rawValue, apiID: model.apiID ?? "",
            socketURL: model.apiEndpoint.map { "\($0)/\(model.stage)" } ?? "", lastError: model.lastError ?? "")
    }

    func codeRoutes(base: String?) -> [CodeRoute] {
        gateway.registeredRoutes.map { route in
            CodeRoute(routeKey: route.routeKey.rawValue, path: route.path, integrationURL: base.map { trimmed($0) + route.path } ?? "")
        }
    }

    private func trimmed(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    func registerGateways(on routes: any RoutesBuilder) {
        routes.get { request async throws -> Response in
            let models = try await GatewayModel.query(on: request.db).sort(\.$name).all()
            return try await render("dashboard.leaf", Dashboard(gateways: models.map(row), routes: codeRoutes(base: nil)), for: request)
        }
        routes.get("gateways", "new") { request async throws -> Response in
            let blank = GatewaySettings(name: "", targetBaseURL: "https://")
            return try await render("gateway-form.leaf", GatewayForm(isNew: true, settings: blank, error: ""), for: request)
        }
        routes.get("gateways", ":name", "edit") { request async throws -> Response in
            let model = try await provisioner.model(named: try request.parameters.require("name"))
            return try await render("gateway-form.leaf", GatewayForm(isNew: false, settings: model.settings, error: ""), for: request)
        }
        routes.post("gateways") { request async throws -> Response in
            let settings = try Self.settings(from: request)
            do {
                try await provisioner.configure(settings)
            } catch let error as ProvisioningError {
                return try await render(
                    "gateway-form.leaf", GatewayForm(isNew: true, settings: settings, error: error.description), for: request,
                    status: .badRequest)
            }
            return redirect("/gateways/" + (settings.name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? ""))
        }
        routes.get("gateways", ":name") { request async throws -> Response in
            try await gatewayPage(try request.parameters.require("name"), notice: "", for: request)
        }
        routes.post("gateways", ":name", "apply") { request async throws -> Response in
            let name = try request.parameters.require("name")
            _ = try await provisioner.model(named: name)
            return streamApply(name, for: request)
        }
        routes.post("gateways", ":name", "domain") { request async throws -> Response in
            let name = try request.parameters.require("name")
            let dryRun = (try? request.content.get(String.self, at: "dry_run")) == "1"
            let notice: String
            do { notice = try await provisioner.attachDomain(name, dryRun: dryRun) } catch { notice = "Custom domain: \(error)" }
            return try await gatewayPage(name, notice: (dryRun ? "Dry run. " : "") + notice, for: request)
        }
        routes.post("gateways", ":name", "rotate-secret") { request async throws -> Response in
            let name = try request.parameters.require("name")
            let dryRun = (try? request.content.get(String.self, at: "dry_run")) != "0"
            let notice: String
            do {
                let rotation = try await provisioner.rotateSecret(name, dryRun: dryRun)
                notice = (dryRun ? "Dry run: nothing changed yet. " : "Rotated. ") + rotation.description
            } catch {
                notice = "Secret rotation: \(error)"
            }
            return try await gatewayPage(name, notice: notice, for: request)
        }
        routes.post("gateways", ":name", "routes") { request async throws -> Response in
            let name = try request.parameters.require("name")
            let notice: String
            do {
                let route = AdditionalRoute(
                    name: try request.content.get(String.self, at: "route_name"),
                    routeKey: try RouteKey(try request.content.get(String.self, at: "route_key")),
                    integrationURL: try request.content.get(String.self, at: "integration_url"))
                try await provisioner.addRoute(route, to: name)
                notice = "Added route \(route.routeKey): apply to create it in API Gateway."
            } catch {
                notice = "Route not added: \(error)"
            }
            return try await gatewayPage(name, notice: notice, for: request)
        }
        routes.post("gateways", ":name", "routes", "remove") { request async throws -> Response in
            let name = try request.parameters.require("name")
            let notice: String
            do {
                let key = try RouteKey(try request.content.get(String.self, at: "route_key"))
                try await provisioner.removeRoute(key, from: name)
                notice = "Removed route \(key): apply to delete it from API Gateway."
            } catch {
                notice = "Route not removed: \(error)"
            }
            return try await gatewayPage(name, notice: notice, for: request)
        }
        routes.get("gateways", ":name", "export") { request async throws -> Response in
            let name = try request.parameters.require("name")
            let desired = try provisioner.desired(for: try await provisioner.model(named: name))
            let format = request.query[String.self, at: "format"] ?? "yaml"
            let (text, file, type): (String, String, String)
            switch format {
            case "yaml": (text, file, type) = (try InfrastructureExport.cloudFormationYAML(desired), "\(name).yaml", "application/yaml")
            case "json": (text, file, type) = (try InfrastructureExport.cloudFormationJSON(desired), "\(name).json", "application/json")
            case "terraform": (text, file, type) = (InfrastructureExport.terraform(desired), "\(name).tf", "text/plain")
            case "console": (text, file, type) = (InfrastructureExport.consoleChecklist(desired), "\(name)-console.txt", "text/plain")
            default: throw Abort(.badRequest, reason: "Unknown export format '\(format.prefix(20))': yaml, json, terraform or console")
            }
            let safe = file.filter { $0.isLetter || $0.isNumber || "-_.".contains($0) }
            var headers = HTTPHeaders()
            headers.add(name: .contentType, value: type + "; charset=utf-8")
            headers.add(name: .contentDisposition, value: "attachment; filename=\"\(safe)\"")
            return Response(status: .ok, headers: headers, body: .init(string: text))
        }
        routes.post("import") { request async throws -> Response in
            let raw = try request.content.get(String.self, at: "api_id")
            let region = (try? request.content.get(String.self, at: "region")).flatMap { $0.isEmpty ? nil : $0 } ?? "us-east-1"
            do {
                let model = try await provisioner.importAPI(try APIID(raw), region: region)
                return redirect("/gateways/" + (model.name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? ""))
            } catch {
                return try await render(
                    "message.leaf", Message(title: "Import failed", message: "\(error)"), for: request, status: .badRequest)
            }
        }
    }

    func gatewayPage(_ name: String, notice: String, for request: Request) async throws -> Response {
        let model = try await provisioner.model(named: name)
        var lines: [PlanLine] = []
        var planError = ""
        do {
            let plan = try await provisioner.plan(name)
            lines = plan.steps.map { step in
                let text = step.summary
                let kind = text.hasPrefix("+") ? "add" : text.hasPrefix("-") ? "remove" : text.hasPrefix("~") ? "change" : "keep"
                return PlanLine(kind: kind, text: text)
            }
        } catch {
            planError = "\(error)"
        }
        let additional = model.routes.map {
            AdditionalRow(name: $0.name, routeKey: $0.routeKey, integrationURL: $0.integrationURL, deployed: $0.deployed)
        }
        let page = GatewayPage(
            gateway: row(model), settings: model.settings, routes: codeRoutes(base: model.targetBaseURL), additional: additional,
            plan: lines, planError: planError, notice: notice)
        return try await render("gateway.leaf", page, for: request)
    }

    /// The apply as a page written while it runs: each step appears as it is recorded.
    func streamApply(_ name: String, for request: Request) -> Response {
        let provisioner = self.provisioner
        let back = path + "/gateways/" + (name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? "")
        var headers = HTTPHeaders()
        headers.contentType = .html
        headers.add(name: "Content-Security-Policy", value: "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
        headers.add(name: "X-Frame-Options", value: "DENY")
        let body = Response.Body(asyncStream: { writer in
            @Sendable func write(_ html: String) async throws { try await writer.write(.buffer(ByteBuffer(string: html))) }
            try await write(
                """
                <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Applying \(escape(name))</title>
                <link rel="stylesheet" href="\(path)/admin.css"></head><body><main>
                <h1>Applying <code>\(escape(name))</code></h1><ol class="steps" data-testid="apply-steps">
                """)
            do {
                // A reader who left does not stop the apply: a failed write is ignored.
                let applied = try await provisioner.apply(name) { step in try? await write("<li>\(escape(step.summary))</li>\n") }
                try? await write("</ol><p class=\"ok\" data-testid=\"apply-result\">Applied: API \(escape(applied.apiID.rawValue)).</p>")
            } catch {
                try? await write("</ol><p class=\"error\" data-testid=\"apply-result\">Stopped: \(escape(String(describing: error)))</p>")
            }
            try? await write("<p><a href=\"\(back)\">Back to the gateway</a></p></main></body></html>")
            try? await writer.write(.end)
        })
        return Response(status: .ok, headers: headers, body: body)
    }

    static func settings(from request: Request) throws -> GatewaySettings {
        func field(_ name: String) -> String? {
            (try? request.content.get(String.self, at: name)).flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        }
        return GatewaySettings(
            name: field("name") ?? "", description: field("description"), defaultChannel: field("default_channel"),
            targetBaseURL: field("target_base_url") ?? "", stage: field("stage") ?? "production",
            region: field("region") ?? "us-east-1", customDomain: field("custom_domain"), certificateARN: field("certificate_arn"),
            hostedZoneID: field("hosted_zone_id"))
    }
}

/// `&<>"'` as HTML entities.
func escape(_ text: String) -> String {
    var escaped = ""
    escaped.reserveCapacity(text.count)
    for character in text {
        switch character {
        case "&": escaped += "&amp;"
        case "<": escaped += "&lt;"
        case ">": escaped += "&gt;"
        case "\"": escaped += "&quot;"
        case "'": escaped += "&#39;"
        default: escaped.append(character)
        }
    }
    return escaped
}
