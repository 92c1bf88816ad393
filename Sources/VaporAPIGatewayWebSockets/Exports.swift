// The SQL store is its own module, shared with the Hummingbird door; a Vapor app that imports this
// module has it too, as it always had.
@_exported public import APIGatewayWebSocketsSQL
