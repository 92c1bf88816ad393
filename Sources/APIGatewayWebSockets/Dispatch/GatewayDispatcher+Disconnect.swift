import Logging

extension GatewayDispatcher {
    /// `$disconnect`: the session marked disconnected, its departure announced, and the
    /// `$default` controller's disconnect hook run, once per connected session: not for an id
    /// never connected on this API, nor for a repeated `$disconnect`.
    func disconnect(_ request: GatewayRequest, _ checked: Checked, _ endpoint: Endpoint, _ logger: Logger) async throws
        -> GatewayResponse
    {
        // One write: the store answers the session as it was, so nothing is read before.
        let session = try await metrics.store("disconnect") {
            try await store.disconnect(checked.connectionID, apiID: checked.gateway.apiID, at: now())
        }
        guard let session else {
            logger.debug("disconnect for a connection not connected")
            return .ok
        }
        logger.debug("disconnected")
        await channels.announceDeparture(of: session)
        let context = DisconnectContext(
            request: request, connectionID: checked.connectionID, gateway: checked.gateway,
            session: session, messenger: messenger, logger: logger
        )
        try await endpoint.controller.controller.disconnect(context)
        return .ok
    }
}
