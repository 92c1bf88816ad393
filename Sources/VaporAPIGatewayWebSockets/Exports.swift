// The SQL store and the maintenance commands' work are modules of their own, shared with the
// Hummingbird door; a Vapor app that imports this module has them too, as it always had.
@_exported public import APIGatewayWebSocketsCommands
@_exported public import APIGatewayWebSocketsSQL
