import Foundation
import Reports
import TensorIO
import Workloads

/// The data sets `report` prices the MACs on (docs/cost-model.md, "Data"), as library calls.
public enum ReportInputs {
    /// One data set per 2-D float tensor of the `.safetensors` checkpoint at `path` whose name
    /// matches `pattern`: its first 256 rows as weights, against 64 seeded outlier-channel
    /// activation rows of its length.
    public static func checkpoint(path: String, matching pattern: String, seed: UInt64) throws -> [ReportData] {
        let checkpoint = try SafetensorsFile.load(path)
        let names = try checkpoint.matrixNames(matching: pattern)
        guard !names.isEmpty else { throw TensorIOError.malformed("no 2-D float tensor in \(path) matches '\(pattern)'") }
        return try names.map { name in
            let (w, shape) = try checkpoint.floatValues(name)
            guard shape.count == 2 else { throw TensorIOError.unsupported("tensor '\(name)' has shape \(shape); a 2-D tensor is required") }
            let used = min(shape[0], 256)
            let acts = Distribution.outlierChannels.sample(rows: 64, columns: shape[1], seed: seed &+ 1)
            return ReportData(name: name, weights: Array(w.prefix(used * shape[1])), weightRows: used, activations: acts, activationRows: 64, length: shape[1])
        }
    }

    /// A float weights / activations pair (`.npy`, same column count); rows pair as in `ReportData`.
    public static func pair(weights: String, activations: String) throws -> [ReportData] {
        let w = try Files.readNpy(weights), a = try Files.readNpy(activations)
        let (wr, wc) = try w.matrixShape(), (ar, ac) = try a.matrixShape()
        guard wc == ac else { throw TensorIOError.malformed("weights have \(wc) columns, activations \(ac): a dot product needs equal lengths") }
        guard wr > 0, ar > 0, wc > 0 else { throw TensorIOError.malformed("empty weights or activations") }
        return [ReportData(name: FilePaths.split(weights).name, weights: try w.floatValues(), weightRows: wr,
                           activations: try a.floatValues(), activationRows: ar, length: wc)]
    }

    /// LLM-like synthetic data (Laplace weights, outlier-channel activations), plus MiniLM's
    /// layer-1 key weight against layer-2 FFN input activations when `minilm` holds them
    /// (`missing` is told otherwise).
    public static func defaults(rows: Int, length: Int, seed: UInt64, minilm: String, missing: (String) -> Void = { _ in }) throws -> [ReportData] {
        var data = [ReportData.synthetic(.laplace, rows: rows, length: length, seed: seed)]
        let w = minilm + "/minilm-l1-key-weight.npy", a = minilm + "/minilm-l2-ffn-input-acts.npy"
        guard Files.exists(w) && Files.exists(a) else {
            missing("\(minilm) not found; synthetic data only")
            return data
        }
        let wn = try Files.readNpy(w), an = try Files.readNpy(a)
        let (wr, wc) = try wn.matrixShape(), (ar, ac) = try an.matrixShape()
        if wc == ac {
            data.append(ReportData(name: "MiniLM L1 key W × L2 acts", weights: try wn.floatValues(), weightRows: wr,
                                   activations: try an.floatValues(), activationRows: ar, length: wc, dotProducts: 512))
        }
        return data
    }
}
