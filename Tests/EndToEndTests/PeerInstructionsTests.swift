import Foundation
import PeerSupport
import Testing

/// What a user is told to install for the tests that need Python peers brings them.
@Suite struct PeerInstructionsTests {
    // The skip message for cfn-lint, python-hcl2 and Selenium told the user to install
    // `botocore boto3 'moto[server]'`, which brings none of them.
    @Test(arguments: [("cfn-lint", "cfn-lint"), ("python-hcl2", "python-hcl2"), ("selenium", "selenium"), ("moto", "'moto[server]'")])
    func eachSkipMessageNamesThePackageThatBringsItsPeer(package: String, pip: String) {
        let message = PythonPeer.missingMessage(package)
        #expect(message.contains(".venv/bin/pip install \(pip)`"), "\(message)")
    }

    @Test func theReadmeAndCIInstallEveryPeer() throws {
        let root = PythonPeer.repositoryRoot
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let ci = try String(contentsOf: root.appendingPathComponent(".ci/run"), encoding: .utf8)
        let line = ".venv/bin/pip install " + PythonPeer.packages.joined(separator: " ")
        #expect(readme.replacingOccurrences(of: "\n", with: " ").contains(line), "the README's venv line: \(line)")
        for package in PythonPeer.packages {
            #expect(ci.contains(" \(package)"), ".ci/run installs \(package)")
        }
    }
}
