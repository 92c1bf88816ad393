import APIGatewayAWS

extension LocalGateway {
    /// The API and stage a request addresses, and the path segments after them: by a custom
    /// domain's mapping when `host` is one, else by `/{apiId}/{stage}`.
    func resolve(host: String?, parts: [String]) -> (api: LocalAPI, stage: String, rest: ArraySlice<String>)? {
        state.read { held in
            if let host, let domain = held.domainNames[Self.hostName(host)] {
                guard let (mapping, rest) = domain.mapping(for: parts), let api = held.apis[mapping.apiId], api.stages[mapping.stage] != nil
                else {
                    return nil
                }
                return (api, mapping.stage, rest)
            }
            guard parts.count >= 2, let api = held.apis[parts[0]], api.stages[parts[1]] != nil else { return nil }
            return (api, parts[1], parts.dropFirst(2))
        }
    }

    /// `ws.example.com:8081` → `ws.example.com`, lower-cased; `[::1]:8081` → `[::1]`.
    static func hostName(_ host: String) -> String {
        Authority(host)?.host ?? host.lowercased()
    }
}
