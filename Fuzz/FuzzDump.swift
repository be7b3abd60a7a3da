// libFuzzer entry point for the 'dump' harness (scripts/fuzz.sh); the body is FuzzTargets.dump.
import FuzzTargets

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.dump(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
