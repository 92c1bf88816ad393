public import Foundation

/// The shared files: `~/.aws/credentials` (or `AWS_SHARED_CREDENTIALS_FILE`), then
/// `~/.aws/config` (or `AWS_CONFIG_FILE`), for the profile `AWS_PROFILE` (or
/// `AWS_DEFAULT_PROFILE`, else `default`).
///
/// In the credentials file a profile is the section `[name]`; in the config file it is
/// `[profile name]`, except `[default]`. Keys: `aws_access_key_id`, `aws_secret_access_key`,
/// `aws_session_token`. Role assumption (`role_arn`, `source_profile`) is not supported and is
/// reported as such.
public struct ProfileCredentialProvider: CredentialProvider {
    public let profile: String
    public let credentialsFile: String
    public let configFile: String

    public init(profile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let home = environment["HOME"] ?? NSHomeDirectory()
        self.profile = profile ?? environment["AWS_PROFILE"] ?? environment["AWS_DEFAULT_PROFILE"] ?? "default"
        self.credentialsFile = Self.expand(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials", home: home)
        self.configFile = Self.expand(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config", home: home)
    }

    public func credential() async throws -> Credential {
        let credentialsSection = try Self.section(named: profile, in: credentialsFile, configStyle: false)
        let configSection = try Self.section(named: profile, in: configFile, configStyle: true)
        for (section, file) in [(credentialsSection, credentialsFile), (configSection, configFile)] {
            guard let section else { continue }
            if let key = section["aws_access_key_id"] {
                guard let secret = section["aws_secret_access_key"] else {
                    throw CredentialError.invalid("profile '\(profile)' in \(file) has aws_access_key_id but no aws_secret_access_key")
                }
                return Credential(accessKeyID: key, secretAccessKey: secret, sessionToken: section["aws_session_token"])
            }
            if section["role_arn"] != nil {
                throw CredentialError.invalid(
                    "profile '\(profile)' in \(file) assumes a role, which this client does not support; give it keys")
            }
        }
        throw CredentialError.notConfigured("shared files: no keys for profile '\(profile)' in \(credentialsFile) or \(configFile)")
    }

    /// The keys of one section, or `nil` when the file or the section does not exist.
    static func section(named profile: String, in path: String, configStyle: Bool) throws -> [String: String]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let wanted = configStyle && profile != "default" ? "profile \(profile)" : profile
        var current: String?
        var found: [String: String]?
        for rawLine in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                current = line.dropFirst().dropLast().split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                if current == wanted, found == nil { found = [:] }
                continue
            }
            guard current == wanted, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            found?[key] = value
        }
        return found
    }

    static func expand(_ path: String, home: String) -> String {
        path.hasPrefix("~/") ? home + path.dropFirst() : path
    }
}
