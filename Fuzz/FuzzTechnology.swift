// libFuzzer entry point for the 'technology' harness (scripts/fuzz.sh); the body is FuzzTargets.technology.
import FuzzTargets

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.technology(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
