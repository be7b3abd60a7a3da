import Foundation
import Testing

/// The module graph as declared is the module graph as used (docs/architecture.md): SwiftPM lets a
/// target import a module it only reaches transitively, which hides a dependency; these tests
/// read Package.swift and every source file instead.
@Suite struct ModuleImportsTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    struct Target { let name: String; let kind: String; let dependencies: [String] }

    /// Every `.target` / `.executableTarget` / `.testTarget` / `.systemLibrary` with its local
    /// dependencies (product dependencies such as ArgumentParser left out).
    static let targets: [Target] = {
        let text = (try? String(contentsOfFile: repository + "/Package.swift", encoding: .utf8)) ?? ""
        let pattern = try! NSRegularExpression(pattern: #"\.(target|executableTarget|testTarget|systemLibrary)\(\s*name:\s*"([A-Za-z]+)"(?:,\s*dependencies:\s*\[([^\]]*)\])?"#)
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { m in
            let part = { (i: Int) -> String in m.range(at: i).location == NSNotFound ? "" : String(text[Range(m.range(at: i), in: text)!]) }
            let deps = part(3).split(separator: ",").compactMap { d -> String? in
                let t = d.trimmingCharacters(in: .whitespacesAndNewlines)
                guard t.hasPrefix("\""), t.hasSuffix("\"") else { return nil }
                return String(t.dropFirst().dropLast())
            }
            return Target(name: part(2), kind: part(1), dependencies: deps)
        }
    }()

    static func imports(of target: Target) -> [String: String] {
        let dir = repository + (target.kind == "testTarget" ? "/Tests/" : "/Sources/") + target.name
        var result = [String: String]()
        let files = (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".swift") }
        let pattern = try! NSRegularExpression(pattern: #"^\s*(?:@testable\s+)?import\s+([A-Za-z_]+)"#, options: .anchorsMatchLines)
        for f in files {
            let text = (try? String(contentsOfFile: dir + "/" + f, encoding: .utf8)) ?? ""
            for m in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                result[String(text[Range(m.range(at: 1), in: text)!])] = f
            }
        }
        return result
    }

    @Test func thePackageIsRead() {
        #expect(Self.targets.count >= 30)
        #expect(Self.targets.contains { $0.name == "Exact" && $0.dependencies.contains("CGMP") })
    }

    @Test func everyImportOfALocalModuleIsDeclared() {
        let local = Set(Self.targets.map(\.name))
        for t in Self.targets where t.kind != "systemLibrary" {
            for (module, file) in Self.imports(of: t) where local.contains(module) && module != t.name {
                #expect(t.dependencies.contains(module), "\(t.name)/\(file) imports \(module), which \(t.name) does not declare")
            }
        }
    }

    @Test func everyDeclaredLocalDependencyIsImported() {
        // A declared but unused dependency links its module (and, for Exact, GMP) for nothing.
        for t in Self.targets where t.kind != "systemLibrary" && t.kind != "testTarget" {
            let imported = Self.imports(of: t)
            for d in t.dependencies where imported[d] == nil {
                Issue.record("\(t.name) declares \(d) but no file of it imports \(d)")
            }
        }
    }

    @Test func gmpStaysInTheModulesThatNeedIt() {
        // The modules that reach CGMP through their declared dependencies.
        let byName = Dictionary(uniqueKeysWithValues: Self.targets.map { ($0.name, $0) })
        func reaches(_ name: String, _ seen: inout Set<String>) -> Bool {
            guard seen.insert(name).inserted, let t = byName[name] else { return false }
            return t.dependencies.contains("CGMP") || t.dependencies.contains { reaches($0, &seen) }
        }
        for name in ["Formats", "Quantization", "Workloads", "TensorIO", "Circuits", "TAHQuant", "Units", "Cost", "Reports", "Liberty", "Workflows"] {
            var seen = Set<String>()
            #expect(!reaches(name, &seen), "\(name) links GMP")
        }
    }

    /// SwiftPM refuses a dependency whose targets carry unsafe flags (`-target-cpu`, `-O`, linker
    /// flags): the package would be unusable from another package. Instruction sets are chosen at
    /// run time instead (CKernels), the soname is given by scripts/build-lib.sh.
    @Test func noTargetCarriesAnUnsafeBuildFlag() throws {
        let package = try String(contentsOfFile: Self.repository + "/Package.swift", encoding: .utf8)
        let code = package.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }.joined(separator: "\n")
        #expect(!code.contains("unsafeFlags"), "Package.swift passes unsafe flags")
    }

    @Test func everyLibraryTargetIsAProductAndDocumented() throws {
        let package = try String(contentsOfFile: Self.repository + "/Package.swift", encoding: .utf8)
        let architecture = try String(contentsOfFile: Self.repository + "/docs/architecture.md", encoding: .utf8)
        for t in Self.targets where t.kind == "target" && t.name != "FuzzTargets" {
            #expect(package.contains("targets: [\"\(t.name)\"]"), "\(t.name) is not a product")
            #expect(architecture.contains("| `\(t.name)` |"), "docs/architecture.md has no row for \(t.name)")
        }
    }
}
