public import APIGatewayProvisioning
public import Vapor

/// The status the HTTP doors (the admin page) answer a provisioning error with.
extension ProvisioningError: AbortError {
    public var status: HTTPResponseStatus {
        switch code {
        case .invalid, .noSoleGateway: .badRequest
        case .unknownGateway, .notFound: .notFound
        case .notApplied, .claimed, .conflict: .conflict
        default: .internalServerError
        }
    }

    public var reason: String { description }
}
