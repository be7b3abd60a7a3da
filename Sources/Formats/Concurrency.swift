import Foundation

/// A value shared by worker threads (`DispatchQueue.concurrentPerform`), every access under a lock.
/// The parallel loops use it for their few shared results (per-worker outcomes, the first error);
/// their bulk output goes to disjoint slots of buffers instead.
public final class Locked<T>: @unchecked Sendable {
    private var stored: T
    private let lock = NSLock()
    public init(_ value: T) { stored = value }
    public var value: T { lock.lock(); defer { lock.unlock() }; return stored }
    public func update(_ body: (inout T) -> Void) { lock.lock(); defer { lock.unlock() }; body(&stored) }
}

/// A value handed to `concurrentPerform` workers that only read it, or write disjoint slots of
/// the buffers it holds (each worker its own rows, tiles or groups) — the one place where the
/// parallel loops vouch for thread safety themselves.
public struct Shared<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
