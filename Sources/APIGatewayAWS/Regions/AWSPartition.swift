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

    /// Whether `region` has the shape of an AWS region name (`eu-west-1`, `us-gov-east-1`): lowercase
    /// letters, digits and `-`, so it is safe in a host name, an ARN and a SigV4 scope.
    public static func isValidRegion(_ region: String) -> Bool {
        !region.isEmpty && region.utf8.count <= 32
            && region.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }
            && region.utf8.first != UInt8(ascii: "-") && region.utf8.last != UInt8(ascii: "-")
    }

    public var description: String { name }
}
