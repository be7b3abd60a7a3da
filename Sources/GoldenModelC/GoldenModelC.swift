#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Formats
import Quantization
import TAHQuant
import TAHQuantExact
import Units

// The C ABI of libdintsim (include/dintsim.h, docs/c-api.md). Every entry point checks its
// arguments and returns an error code (or NULL) with a thread-local message instead of trapping;
// nothing here keeps global state besides that message's thread-local slot and the constant
// version string.

/// Error codes (`DINTSIM_OK` … in dintsim.h).
enum Status: Int32 {
    case ok = 0
    case nullPointer = 1
    case invalidArgument = 2
    case invalidCode = 3
}

/// The calling thread's last error message (a `malloc`ed C string per thread).
enum LastError {
    static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { free($0) }
        return k
    }()

    static func set(_ message: String) {
        let old = pthread_getspecific(key)
        pthread_setspecific(key, strdup(message))
        free(old)
    }

    @discardableResult
    static func fail(_ status: Status, _ message: String) -> Int32 {
        set(message)
        return status.rawValue
    }

    static var current: UnsafePointer<CChar>? {
        if pthread_getspecific(key) == nil { set("") }
        return UnsafePointer(pthread_getspecific(key)?.assumingMemoryBound(to: CChar.self))
    }
}

/// The version as a C string that lives as long as the library.
nonisolated(unsafe) let versionCString: UnsafeMutablePointer<CChar> = strdup(DintsimVersion.string)

@_cdecl("dintsim_version")
public func dintsim_version() -> UnsafePointer<CChar> { UnsafePointer(versionCString) }

@_cdecl("dintsim_last_error")
public func dintsim_last_error() -> UnsafePointer<CChar>? { LastError.current }

func string(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }

// MARK: - MAC / PE

/// The object behind `dintsim_mac *`: one configuration's word-level cycle model.
final class MacHandle {
    let configuration: MacConfiguration
    var model: MacModel
    let extremes: (min: Int64, max: Int64)
    init(_ c: MacConfiguration) { configuration = c; model = MacModel(c); extremes = c.extremeProducts }
}

@_cdecl("dintsim_mac_create")
public func dintsim_mac_create(_ unit: UnsafePointer<CChar>?, _ lanes: Int32, _ pipelineDepth: Int32, _ accWidth: Int32, _ saturate: Int32) -> OpaquePointer? {
    guard let name = string(unit) else { LastError.fail(.nullPointer, "dintsim_mac_create: unit is NULL"); return nil }
    guard let kind = MacKind(unitName: name) else {
        LastError.fail(.invalidArgument, "dintsim_mac_create: unknown unit '\(name)' (\(MacKind.fixed.map(\.unitName).joined(separator: ", ")))"); return nil
    }
    guard saturate == 0 || saturate == 1 else { LastError.fail(.invalidArgument, "dintsim_mac_create: saturate is \(saturate); give 0 (wrap) or 1 (saturate)"); return nil }
    do {
        let handle = MacHandle(try MacConfiguration(kind: kind, lanes: Int(lanes), pipelineDepth: Int(pipelineDepth), accumulatorWidth: Int(accWidth),
                                                    overflow: saturate == 1 ? .saturate : .wrap))
        return OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    } catch {
        LastError.fail(.invalidArgument, "dintsim_mac_create: \(error)")
        return nil
    }
}

@_cdecl("dintsim_mac_step")
public func dintsim_mac_step(_ mac: OpaquePointer?, _ weightCodes: UnsafePointer<UInt8>?, _ activations: UnsafePointer<Int8>?,
                             _ valid: Int32, _ clear: Int32, _ acc: UnsafeMutablePointer<Int64>?, _ validOut: UnsafeMutablePointer<Int32>?) -> Int32 {
    macStep("dintsim_mac_step", mac, weightCodes, activations, valid, clear, acc, validOut, nil)
}

@_cdecl("dintsim_mac_step_flags")
public func dintsim_mac_step_flags(_ mac: OpaquePointer?, _ weightCodes: UnsafePointer<UInt8>?, _ activations: UnsafePointer<Int8>?,
                                   _ valid: Int32, _ clear: Int32, _ acc: UnsafeMutablePointer<Int64>?, _ validOut: UnsafeMutablePointer<Int32>?,
                                   _ flags: UnsafeMutablePointer<UInt32>?) -> Int32 {
    macStep("dintsim_mac_step_flags", mac, weightCodes, activations, valid, clear, acc, validOut, flags)
}

/// One cycle through `MacDriver`; with `flags`, the presented transaction's input flags and the
/// landed one's wrapped / saturated bit.
func macStep(_ name: String, _ mac: OpaquePointer?, _ weightCodes: UnsafePointer<UInt8>?, _ activations: UnsafePointer<Int8>?,
             _ valid: Int32, _ clear: Int32, _ acc: UnsafeMutablePointer<Int64>?, _ validOut: UnsafeMutablePointer<Int32>?,
             _ flags: UnsafeMutablePointer<UInt32>?) -> Int32 {
    guard let mac else { return LastError.fail(.nullPointer, "\(name): mac is NULL") }
    guard let weightCodes, let activations else { return LastError.fail(.nullPointer, "\(name): weight_codes or activations is NULL") }
    let h = Unmanaged<MacHandle>.fromOpaque(UnsafeRawPointer(mac)).takeUnretainedValue()
    let c = h.configuration, width = c.weightWidth
    // A reserved code (dINT 1000) is valid input: the hardware multiplies it as 0, as the
    // vector sets show; only a code wider than the unit's weight is refused.
    if width < 8, let lane = (0..<c.lanes).first(where: { weightCodes[$0] >> UInt8(width) != 0 }) {
        return LastError.fail(.invalidCode, "\(name): lane \(lane): weight code \(weightCodes[lane]) is wider than \(width) bits for \(c.kind); the cycle was not taken")
    }
    let presented = flags == nil ? [] : c.inputFlags(codes: weightCodes, activations: activations, valid: valid != 0, clear: clear != 0, extremes: h.extremes)
    MacDriver.cycle(&h.model, codes: weightCodes, activations: activations, count: c.lanes, valid: valid != 0, clear: clear != 0)
    acc?.pointee = h.model.accumulator
    validOut?.pointee = h.model.validOut ? 1 : 0
    if let flags {
        let landed: MacFlags = h.model.landedOutOfRange ? (c.overflow == .wrap ? .wrapped : .saturated) : []
        flags.pointee = presented.union(landed).rawValue
    }
    return Status.ok.rawValue
}

@_cdecl("dintsim_mac_reset")
public func dintsim_mac_reset(_ mac: OpaquePointer?) {
    guard let mac else { LastError.fail(.nullPointer, "dintsim_mac_reset: mac is NULL"); return }
    let h = Unmanaged<MacHandle>.fromOpaque(UnsafeRawPointer(mac)).takeUnretainedValue()
    h.model.reset()
}

@_cdecl("dintsim_mac_destroy")
public func dintsim_mac_destroy(_ mac: OpaquePointer?) {
    guard let mac else { return }
    Unmanaged<MacHandle>.fromOpaque(UnsafeRawPointer(mac)).release()
}

@_cdecl("dintsim_mac_lanes")
public func dintsim_mac_lanes(_ mac: OpaquePointer?) -> Int32 {
    guard let mac else { return LastError.fail(.nullPointer, "dintsim_mac_lanes: mac is NULL") * -1 }
    return Int32(Unmanaged<MacHandle>.fromOpaque(UnsafeRawPointer(mac)).takeUnretainedValue().configuration.lanes)
}

// MARK: - Level quantizer

/// `rounding` numbers of dintsim.h, in `RoundingRule` order.
let roundingRules: [RoundingRule] = [.toNearestOrEven, .toNearestOrAway, .towardZero, .down, .up, .stochastic]

@_cdecl("dintsim_quantize_level")
public func dintsim_quantize_level(_ format: UnsafePointer<CChar>?, _ x: Float, _ scale: Float, _ rounding: Int32, _ seed: UInt64, _ index: UInt64,
                                   _ code: UnsafeMutablePointer<UInt8>?, _ flags: UnsafeMutablePointer<UInt32>?) -> Int32 {
    let draw = rounding == 5 ? CounterRandom(seed: seed).stochasticDraw(index) : 0
    return quantizeLevel("dintsim_quantize_level", format, x, scale, rounding, draw, code, flags)
}

@_cdecl("dintsim_quantize_level_draw")
public func dintsim_quantize_level_draw(_ format: UnsafePointer<CChar>?, _ x: Float, _ scale: Float, _ rounding: Int32, _ draw: UInt32,
                                        _ code: UnsafeMutablePointer<UInt8>?, _ flags: UnsafeMutablePointer<UInt32>?) -> Int32 {
    guard draw <= 0xFFFF else { return LastError.fail(.invalidArgument, "dintsim_quantize_level_draw: draw \(draw) is wider than 16 bits") }
    return quantizeLevel("dintsim_quantize_level_draw", format, x, scale, rounding, draw, code, flags)
}

@_cdecl("dintsim_quantize_level_bits")
public func dintsim_quantize_level_bits(_ format: UnsafePointer<CChar>?, _ xBits: UInt32, _ scaleBits: UInt32, _ rounding: Int32, _ seed: UInt64, _ index: UInt64,
                                        _ code: UnsafeMutablePointer<UInt8>?, _ flags: UnsafeMutablePointer<UInt32>?) -> Int32 {
    let draw = rounding == 5 ? CounterRandom(seed: seed).stochasticDraw(index) : 0
    return quantizeLevel("dintsim_quantize_level_bits", format, Float(bitPattern: xBits), Float(bitPattern: scaleBits), rounding, draw, code, flags)
}

@_cdecl("dintsim_quantize_level_draw_bits")
public func dintsim_quantize_level_draw_bits(_ format: UnsafePointer<CChar>?, _ xBits: UInt32, _ scaleBits: UInt32, _ rounding: Int32, _ draw: UInt32,
                                             _ code: UnsafeMutablePointer<UInt8>?, _ flags: UnsafeMutablePointer<UInt32>?) -> Int32 {
    guard draw <= 0xFFFF else { return LastError.fail(.invalidArgument, "dintsim_quantize_level_draw_bits: draw \(draw) is wider than 16 bits") }
    return quantizeLevel("dintsim_quantize_level_draw_bits", format, Float(bitPattern: xBits), Float(bitPattern: scaleBits), rounding, draw, code, flags)
}

/// Selectors by (format name, rule), built on first use: building one costs far more than a
/// decision. A pure memo (the same selector for the same pair, whoever asks first), so it is not
/// state a caller can observe.
final class SelectorCache: @unchecked Sendable {
    static let shared = SelectorCache()
    private var cache = [String: LevelSelector]()
    private let lock = NSLockLike()
    /// nil for an unknown format name.
    func selector(_ name: String, _ rule: RoundingRule) -> LevelSelector? {
        let key = name + "/" + rule.rawValue
        lock.lock(); defer { lock.unlock() }
        if let s = cache[key] { return s }
        guard let format = try? LevelFormat.preset(named: name) else { return nil }
        let s = LevelSelector(format: format, rule: rule)
        cache[key] = s
        return s
    }
}

/// A pthread mutex (Foundation stays out of the C library).
final class NSLockLike: @unchecked Sendable {
    private var m = pthread_mutex_t()
    init() { pthread_mutex_init(&m, nil) }
    func lock() { pthread_mutex_lock(&m) }
    func unlock() { pthread_mutex_unlock(&m) }
}

func quantizeLevel(_ function: String, _ format: UnsafePointer<CChar>?, _ x: Float, _ scale: Float, _ rounding: Int32, _ draw: UInt32,
                   _ code: UnsafeMutablePointer<UInt8>?, _ flags: UnsafeMutablePointer<UInt32>?) -> Int32 {
    guard let name = string(format) else { return LastError.fail(.nullPointer, "\(function): format is NULL") }
    guard let code else { return LastError.fail(.nullPointer, "\(function): code is NULL") }
    guard (0..<Int32(roundingRules.count)).contains(rounding) else {
        return LastError.fail(.invalidArgument, "\(function): rounding \(rounding) is outside 0...5")
    }
    guard let selector = SelectorCache.shared.selector(name, roundingRules[Int(rounding)]) else {
        return LastError.fail(.invalidArgument, "\(function): unknown format '\(name)' (\(LevelFormat.presets.map(\.name).joined(separator: ", ")))")
    }
    guard x.isFinite, scale.isFinite, scale > 0 else {
        return LastError.fail(.invalidArgument, "\(function): x must be finite and scale finite and > 0 (x \(x), scale \(scale))")
    }
    let decision = LevelDecision(selector: selector, x: x, scale: scale, draw: draw)
    code.pointee = decision.code
    flags?.pointee = decision.flags
    return Status.ok.rawValue
}

// MARK: - Hadamard decoder tile

@_cdecl("dintsim_decode_tile")
public func dintsim_decode_tile(_ tileSize: Int32, _ output: UnsafePointer<CChar>?, _ codes: UnsafePointer<UInt8>?, _ flagged: Int32, _ pivot: Int32,
                                _ scale: UInt16, _ zero: UInt16, _ outBits: UnsafeMutablePointer<UInt32>?, _ flags: UnsafeMutablePointer<UInt32>?) -> Int32 {
    guard let name = string(output), let codes, let outBits else {
        return LastError.fail(.nullPointer, "dintsim_decode_tile: output, codes or out_bits is NULL")
    }
    let g = Int(tileSize)
    guard TahQuantConfiguration.tileSizes.contains(g) else {
        return LastError.fail(.invalidArgument, "dintsim_decode_tile: tile size \(g) is not one of \(TahQuantConfiguration.tileSizes)")
    }
    guard let format = BinaryFloatFormat.all.first(where: { $0.name == name }), [BinaryFloatFormat.fp32, .bf16, .fp16].contains(format) else {
        return LastError.fail(.invalidArgument, "dintsim_decode_tile: unknown output '\(name)' (fp32, bf16, fp16)")
    }
    guard (0..<Int32(g)).contains(pivot) else { return LastError.fail(.invalidArgument, "dintsim_decode_tile: pivot \(pivot) is outside 0..<\(g)") }
    let q = Array(UnsafeBufferPointer(start: codes, count: g))
    if let bad = q.firstIndex(where: { $0 > 15 }) {
        return LastError.fail(.invalidCode, "dintsim_decode_tile: code \(q[bad]) at element \(bad) is wider than 4 bits")
    }
    let tile = DecoderTile(tileSize: g, output: format, codes: q, flagged: flagged != 0, pivot: Int(pivot), scale: scale, zero: zero)
    for (i, b) in tile.bits.enumerated() { outBits[i] = b }
    if let flags { flags.pointee = tile.flags() }
    return Status.ok.rawValue
}

// MARK: - Whole tensor

@_cdecl("dintsim_quantize_tensor")
public func dintsim_quantize_tensor(_ format: UnsafePointer<CChar>?, _ granularity: UnsafePointer<CChar>?, _ rounding: Int32, _ seed: UInt64,
                                    _ x: UnsafePointer<Float>?, _ rows: Int64, _ columns: Int64, _ codes: UnsafeMutablePointer<UInt8>?,
                                    _ scales: UnsafeMutablePointer<Float>?, _ scalesCapacity: Int64, _ scaleCount: UnsafeMutablePointer<Int64>?,
                                    _ stats: UnsafeMutablePointer<Int64>?) -> Int32 {
    guard let name = string(format), let g = string(granularity), let x, let codes, let scales, let scaleCount else {
        return LastError.fail(.nullPointer, "dintsim_quantize_tensor: format, granularity, x, codes, scales or scale_count is NULL")
    }
    guard (0..<Int32(roundingRules.count)).contains(rounding) else {
        return LastError.fail(.invalidArgument, "dintsim_quantize_tensor: rounding \(rounding) is outside 0...5")
    }
    guard rows >= 0, columns >= 0, rows.multipliedReportingOverflow(by: columns).partialValue <= 1 << 40, !rows.multipliedReportingOverflow(by: columns).overflow else {
        return LastError.fail(.invalidArgument, "dintsim_quantize_tensor: shape \(rows) × \(columns) is negative or above 2^40 elements")
    }
    guard let granularity = Granularity(parsing: g) else {
        return LastError.fail(.invalidArgument, "dintsim_quantize_tensor: granularity '\(g)' is not tensor, channel or group:G")
    }
    guard let f = try? LevelFormat.preset(named: name) else {
        return LastError.fail(.invalidArgument, "dintsim_quantize_tensor: unknown format '\(name)'")
    }
    let needed = Int64(granularity.scaleShape(rows: Int(rows), columns: Int(columns)).reduce(1, *))
    guard scalesCapacity >= needed else {
        return LastError.fail(.invalidArgument, "dintsim_quantize_tensor: scales_capacity \(scalesCapacity) is below the \(needed) scales of \(granularity)")
    }
    do {
        let q = try SymmetricQuantizer(format: f, granularity: granularity, rounding: roundingRules[Int(rounding)], seed: seed)
        let n = Int(rows * columns)
        let r = try q.quantize(Array(UnsafeBufferPointer(start: x, count: n)), rows: Int(rows), columns: Int(columns))
        r.codes.withUnsafeBufferPointer { codes.update(from: $0.baseAddress!, count: n) }
        for (i, s) in r.scales.enumerated() { scales[i] = s }
        scaleCount.pointee = Int64(r.scales.count)
        if let stats {
            let s = r.statistics
            for (i, v) in [s.elementCount, s.nonzeroCount, s.underflowCount, s.clipCount].enumerated() { stats[i] = Int64(v) }
        }
        return Status.ok.rawValue
    } catch {
        return LastError.fail(.invalidArgument, "dintsim_quantize_tensor: \(error)")
    }
}

@_cdecl("dintsim_quantize_block_tensor")
public func dintsim_quantize_block_tensor(_ scheme: UnsafePointer<CChar>?, _ rounding: Int32, _ x: UnsafePointer<Float>?, _ rows: Int64, _ columns: Int64,
                                          _ codes: UnsafeMutablePointer<UInt8>?, _ blockScales: UnsafeMutablePointer<UInt8>?, _ blockScalesCapacity: Int64,
                                          _ blockScaleCount: UnsafeMutablePointer<Int64>?, _ tensorScale: UnsafeMutablePointer<Float>?,
                                          _ stats: UnsafeMutablePointer<Int64>?) -> Int32 {
    guard rounding != 5 else {
        return LastError.fail(.invalidArgument, "dintsim_quantize_block_tensor: rounding 5 (stochastic) needs a seed: call dintsim_quantize_block_tensor_seeded")
    }
    return quantizeBlockTensor("dintsim_quantize_block_tensor", scheme, rounding, 0, 16, x, rows, columns, codes, blockScales, blockScalesCapacity,
                               blockScaleCount, tensorScale, stats)
}

@_cdecl("dintsim_quantize_block_tensor_seeded")
public func dintsim_quantize_block_tensor_seeded(_ scheme: UnsafePointer<CChar>?, _ rounding: Int32, _ seed: UInt64, _ stochasticBits: Int32,
                                                 _ x: UnsafePointer<Float>?, _ rows: Int64, _ columns: Int64,
                                                 _ codes: UnsafeMutablePointer<UInt8>?, _ blockScales: UnsafeMutablePointer<UInt8>?, _ blockScalesCapacity: Int64,
                                                 _ blockScaleCount: UnsafeMutablePointer<Int64>?, _ tensorScale: UnsafeMutablePointer<Float>?,
                                                 _ stats: UnsafeMutablePointer<Int64>?) -> Int32 {
    quantizeBlockTensor("dintsim_quantize_block_tensor_seeded", scheme, rounding, seed, stochasticBits, x, rows, columns, codes, blockScales,
                        blockScalesCapacity, blockScaleCount, tensorScale, stats)
}

@_cdecl("dintsim_quantize_block_tensor_scaled")
public func dintsim_quantize_block_tensor_scaled(_ scheme: UnsafePointer<CChar>?, _ rounding: Int32, _ seed: UInt64, _ stochasticBits: Int32,
                                                 _ tensorScale: Float, _ x: UnsafePointer<Float>?, _ rows: Int64, _ columns: Int64,
                                                 _ codes: UnsafeMutablePointer<UInt8>?, _ blockScales: UnsafeMutablePointer<UInt8>?, _ blockScalesCapacity: Int64,
                                                 _ blockScaleCount: UnsafeMutablePointer<Int64>?, _ stats: UnsafeMutablePointer<Int64>?) -> Int32 {
    quantizeBlockTensor("dintsim_quantize_block_tensor_scaled", scheme, rounding, seed, stochasticBits, x, rows, columns, codes, blockScales,
                        blockScalesCapacity, blockScaleCount, nil, stats, givenTensorScale: tensorScale)
}

/// The block-format entry points; `givenTensorScale` (the `_scaled` call) replaces the tensor
/// scale the quantizer would derive from x.
private func quantizeBlockTensor(_ name: String, _ scheme: UnsafePointer<CChar>?, _ rounding: Int32, _ seed: UInt64, _ stochasticBits: Int32,
                                 _ x: UnsafePointer<Float>?, _ rows: Int64, _ columns: Int64,
                                 _ codes: UnsafeMutablePointer<UInt8>?, _ blockScales: UnsafeMutablePointer<UInt8>?, _ blockScalesCapacity: Int64,
                                 _ blockScaleCount: UnsafeMutablePointer<Int64>?, _ tensorScale: UnsafeMutablePointer<Float>?,
                                 _ stats: UnsafeMutablePointer<Int64>?, givenTensorScale: Float? = nil) -> Int32 {
    guard let s = string(scheme), let x, let codes, let blockScales, let blockScaleCount else {
        return LastError.fail(.nullPointer, "\(name): scheme, x, codes, block_scales or block_scale_count is NULL")
    }
    let parsed: BlockFloatVariant?
    do { parsed = try BlockFloatVariant(parsing: s) } catch { return LastError.fail(.invalidArgument, "\(name): \(error)") }
    guard let variant = parsed else {
        return LastError.fail(.invalidArgument, "\(name): unknown scheme '\(s)' (\(BlockFloatVariant.choices(.mxfp4)), \(BlockFloatVariant.choices(.nvfp4)))")
    }
    guard (0..<Int32(roundingRules.count)).contains(rounding) else {
        return LastError.fail(.invalidArgument, "\(name): rounding \(rounding) is outside 0...5")
    }
    guard rows >= 0, columns >= 0, !rows.multipliedReportingOverflow(by: columns).overflow, rows * columns <= 1 << 40 else {
        return LastError.fail(.invalidArgument, "\(name): shape \(rows) × \(columns) is negative or above 2^40 elements")
    }
    do {
        let q = try BlockFloatQuantizer(variant, rounding: roundingRules[Int(rounding)], seed: seed, stochasticBits: Int(stochasticBits))
        let needed = Int64(q.blockScaleCount(rows: Int(rows), columns: Int(columns)))
        guard blockScalesCapacity >= needed else {
            return LastError.fail(.invalidArgument, "\(name): block_scales_capacity \(blockScalesCapacity) is below the \(needed) block scales of \(variant.scheme.rawValue)")
        }
        let n = Int(rows * columns), values = Array(UnsafeBufferPointer(start: x, count: n))
        let r: (codes: [UInt8], blockScales: [UInt8], tensorScale: Float, statistics: QuantizationStatistics)
        if let given = givenTensorScale {
            guard given.isFinite && given > 0 else { return LastError.fail(.invalidArgument, "\(name): tensor_scale \(given) must be finite and positive") }
            guard variant.scheme == .nvfp4 || given == 1 else { return LastError.fail(.invalidArgument, "\(name): mxfp4 has no tensor scale: pass 1") }
            var statistics = QuantizationStatistics()
            let out = try q.quantizeRows(values, rows: Int(rows), columns: Int(columns), firstRow: 0, tensorScale: given, statistics: &statistics)
            r = (out.codes, out.blockScales, given, statistics)
        } else {
            let out = try q.quantize(values, rows: Int(rows), columns: Int(columns))
            r = (out.codes, out.blockScales, out.tensorScale, out.statistics)
        }
        r.codes.withUnsafeBufferPointer { if n > 0 { codes.update(from: $0.baseAddress!, count: n) } }
        for (i, b) in r.blockScales.enumerated() { blockScales[i] = b }
        blockScaleCount.pointee = Int64(r.blockScales.count)
        tensorScale?.pointee = r.tensorScale
        if let stats {
            let st = r.statistics
            for (i, v) in [st.elementCount, st.nonzeroCount, st.underflowCount, st.clipCount].enumerated() { stats[i] = Int64(v) }
        }
        return Status.ok.rawValue
    } catch {
        return LastError.fail(.invalidArgument, "\(name): \(error)")
    }
}

