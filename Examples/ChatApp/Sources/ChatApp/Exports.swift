// The chat's shared part (controllers, accounts, page assets) comes with the Vapor example.
@_exported import ChatCore
