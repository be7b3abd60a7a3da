import Foundation

/// One line of text for any error, never Foundation's own description (`NSCocoaErrorDomain
/// Code=516 …`, `dataCorrupted(Swift.DecodingError.Context(…))`): library errors carry their own
/// text; decoding errors name the field; Cocoa and POSIX errors give the system's reason.
public enum ErrorText {
    public static func describe(_ error: Error) -> String {
        switch error {
        case let e as DecodingError: return decoding(e)
        case is EncodingError: return "a value could not be written as JSON (a NaN or infinity?)"
        case let e as POSIXError: return Files.reason(e.code.rawValue)
        case let e as CocoaError:
            if let underlying = e.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
                return Files.reason(Int32(underlying.code))
            }
            return cocoa(e)
        case let e as CustomStringConvertible where !(type(of: error) is NSError.Type):
            return e.description.split(separator: "\n").joined(separator: "; ")
        default:
            let e = error as NSError
            if e.domain == NSPOSIXErrorDomain { return Files.reason(Int32(e.code)) }
            return "an unexpected \(e.domain) error \(e.code)"
        }
    }

    static func path(_ context: DecodingError.Context) -> String {
        let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return p.isEmpty ? "the top level" : "'" + (p.hasPrefix(".") ? String(p.dropFirst()) : p) + "'"
    }

    static func decoding(_ e: DecodingError) -> String {
        switch e {
        case .keyNotFound(let key, let c): return "field '\(key.stringValue)' is missing at \(path(c))"
        case .typeMismatch(let t, let c): return "\(path(c)) is not of type \(t)"
        case .valueNotFound(let t, let c): return "\(path(c)) is null where a \(t) is required"
        case .dataCorrupted(let c): return c.codingPath.isEmpty ? "not valid JSON" : "\(path(c)) is invalid"
        @unknown default: return "not the expected JSON"
        }
    }

    static func cocoa(_ e: CocoaError) -> String {
        switch e.code {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file"
        case .fileWriteFileExists: return "a file is in the way"
        case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
        case .fileWriteOutOfSpace: return "no space left on device"
        case .fileReadCorruptFile, .propertyListReadCorrupt: return "not valid JSON"
        default: return "file error \(e.code.rawValue)"
        }
    }
}
