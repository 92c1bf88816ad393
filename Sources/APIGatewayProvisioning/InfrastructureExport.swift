import APIGatewayWebSockets
import Foundation

/// The desired API as infrastructure as code: CloudFormation (JSON or YAML) and Terraform (HCL),
/// from the same ``DesiredAPI`` the planner applies. The gateway secret is a parameter (a
/// `NoEcho` CloudFormation parameter, a sensitive Terraform variable), never written out.
public enum InfrastructureExport {
    /// Logical names for a route's resources: `Connect`, `Disconnect`, `Default`, or `Route` + the
    /// key's letters and digits with a short hash to keep distinct keys distinct.
    static func logicalName(_ key: RouteKey) -> String {
        let routeKey = key.rawValue
        switch routeKey {
        case "$connect": return "Connect"
        case "$disconnect": return "Disconnect"
        case "$default": return "Default"
        default:
            let letters = routeKey.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) && $0.isASCII }
            var hash: UInt32 = 2_166_136_261
            for byte in routeKey.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
            let name = String(String.UnicodeScalarView(letters.prefix(40)))
            return "Route" + name.prefix(1).uppercased() + name.dropFirst() + String(hash % 10_000)
        }
    }

    /// The secret's request parameter is rewritten to use the parameter or variable.
    static func parameters(_ route: DesiredAPI.Route, secretReference: String) -> [String: String] {
        route.requestParameters.mapValues { value in
            value.hasPrefix("'") && value.hasSuffix("'") && value.count > 2 ? "'\(secretReference)'" : value
        }
    }
}
