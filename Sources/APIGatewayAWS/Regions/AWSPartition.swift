/// The AWS partition a region belongs to: its ARN prefix and its DNS suffix.
///
/// China's regions (`cn-*`) live under `aws-cn` and `amazonaws.com.cn`, GovCloud (`us-gov-*`)
/// under `aws-us-gov`; every other region under `aws` and `amazonaws.com`.
///
/// ```swift
/// AWSPartition(region: "cn-north-1").dnsSuffix  // "amazonaws.com.cn"
/// ```
public struct AWSPartition: Hashable, Sendable, CustomStringConvertible {
    /// The partition's name, as ARNs write it: `aws`, `aws-cn`, `aws-us-gov`.
    public let name: String
    /// The domain its service endpoints end with.
    public let dnsSuffix: String

    public static let aws = AWSPartition(name: "aws", dnsSuffix: "amazonaws.com")
    public static let china = AWSPartition(name: "aws-cn", dnsSuffix: "amazonaws.com.cn")
    public static let govCloud = AWSPartition(name: "aws-us-gov", dnsSuffix: "amazonaws.com")

    private init(name: String, dnsSuffix: String) {
        self.name = name
        self.dnsSuffix = dnsSuffix
    }

    /// The partition of `region`.
    public init(region: String) {
        self = region.hasPrefix("cn-") ? .china : region.hasPrefix("us-gov-") ? .govCloud : .aws
    }

    /// Whether `region` has the shape of an AWS region name: two letters, one or more groups of
    /// letters, a number (`eu-west-1`, `us-gov-east-1`), so it is safe in a host name, an ARN and
    /// a SigV4 scope.
    public static func isValidRegion(_ region: String) -> Bool {
        let parts = region.utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        func letters(_ part: Substring.UTF8View.SubSequence) -> Bool { !part.isEmpty && part.allSatisfy { $0 >= 0x61 && $0 <= 0x7A } }
        guard region.utf8.count <= 32, parts.count >= 3, parts[0].count == 2, letters(parts[0]) else { return false }
        guard let last = parts.last, !last.isEmpty, last.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        return parts.dropFirst().dropLast().allSatisfy(letters)
    }

    public var description: String { name }
}
