import APIGatewayLocal
import Foundation
import Testing

/// `apigateway-local --declare file`: a bad file is explained in a sentence, not a decoder dump.
@Suite struct LocalDeclarationTests {
    func error(for text: String?) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("declare-\(UUID().uuidString).json")
        if let text { try Data(text.utf8).write(to: file) }
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            _ = try LocalDeclaration.read(from: file.path)
            return "no error"
        } catch let error as LocalGatewayError {
            return error.description
        }
    }

    @Test func aBadFileIsExplainedInASentence() throws {
        #expect(try error(for: "{not json").contains("cannot be used: it is not JSON"))
        #expect(try error(for: #"{"apis":[{"apiId":"a","routes":{}}]}"#).contains(#"apis[0] has no "stages""#))
        let stages = try error(for: #"{"apis":[{"apiId":"a","stages":"local","routes":{}}]}"#)
        #expect(stages.contains("apis[0].stages should be"), "\(stages)")
        #expect(try error(for: nil).contains("cannot be read"))
        let message = try error(for: #"{"apis":{}}"#)
        #expect(message.contains("apis should be") && message.contains(#"Its format: {"apis":[{"apiId""#), "\(message)")
        let good = FileManager.default.temporaryDirectory.appendingPathComponent("declare-\(UUID().uuidString).json")
        try Data(#"{"apis":[{"apiId":"a","stages":["local"],"routes":{"$default":"http://127.0.0.1:1/ws/default"}}]}"#.utf8).write(to: good)
        defer { try? FileManager.default.removeItem(at: good) }
        #expect(try LocalDeclaration.read(from: good.path).localAPIs().first?.apiId == "a")
    }
}
