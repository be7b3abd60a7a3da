// libFuzzer entry point for the 'manifest' harness (scripts/fuzz.sh); the body is FuzzTargets.manifest.
import FuzzTargets

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.manifest(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
