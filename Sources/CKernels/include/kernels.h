// dintsim's hot loops in C, each compiled once per instruction-set level and chosen at run time
// from what the CPU reports (Kernels.InstructionSet), so that the package needs no build flag (a
// dependency may not carry one): the netlist simulator's evaluation loop (Circuits.Simulator) and
// the nearest-rule element quantizer (Quantization); and in plain C for every CPU, the MAC/PE
// model replaying stored stimulus (Units.MacReplayKernel). docs/performance.md, "Kernels".
#ifndef DINTSIM_KERNELS_H
#define DINTSIM_KERNELS_H
#include <stdint.h>

// Instruction-set levels. Portable: plain C (any CPU). Popcount: x86-64 POPCNT (and SSE4.1).
// AVX2: 256-bit vectors. AVX-512: 512-bit vectors (F, VL, DQ, BW, VBMI, VPOPCNTDQ: Ice Lake and
// Zen 4 on). No level contracts a multiply and an add into one rounding.
enum {
    DINTSIM_ISA_PORTABLE = 0, DINTSIM_ISA_POPCOUNT = 1, DINTSIM_ISA_AVX2 = 2, DINTSIM_ISA_AVX512 = 3
};

// 1 if this CPU (and its operating system) supports `level`, else 0.
int32_t dintsim_isa_supported(int32_t level);

// ---- The netlist simulator ----

// Cell kinds (Circuits.Simulator.kernelKind maps Circuits.CellKind to them).
enum {
    DINTSIM_CELL_INV = 0, DINTSIM_CELL_AND2, DINTSIM_CELL_OR2, DINTSIM_CELL_NAND2, DINTSIM_CELL_NOR2,
    DINTSIM_CELL_XOR2, DINTSIM_CELL_XNOR2, DINTSIM_CELL_MUX2, DINTSIM_CELL_HALF_ADDER,
    DINTSIM_CELL_FULL_ADDER
};

// A combinational cell: input and output nodes. MUX2: in0 = select, in1 = data0, in2 = data1.
// Half adder: out0 = a⊕b, out1 = a·b. Full adder: out2 = a⊕b (internal), out1 = carry, out0 = sum.
typedef struct {
    int32_t in0, in1, in2, out0, out1, out2;
} dintsim_cell;

// A maximal run of consecutive cells of one kind, program positions [start, end).
typedef struct {
    int32_t kind, start, end;
} dintsim_cell_run;

// Evaluates the program once. `values`: node n's W words at values[n·W ..< n·W + W]; W = `words`
// ∈ {1, 2, 4}. With `toggles` non-null, for every output node written at program position p,
// popcount((old ⊕ new) & masks[j]) is added to toggles[p·W + j] (the full adder's internal node
// to internal[p·W + j]). values, masks, toggles and internal are 8·W-byte aligned. Popcount: the
// compiler's at the portable level, POPCNT per word at the popcount level, a nibble table
// (vpshufb + vpsadbw) at AVX2, VPOPCNTQ at AVX-512. A level this CPU does not support, or another
// word count, does nothing and returns 0; else 1.
int32_t dintsim_netlist_evaluate(int32_t level, int32_t words, const dintsim_cell *program,
                                 const dintsim_cell_run *runs, int32_t run_count, uint64_t *values,
                                 const uint64_t *masks, uint64_t *toggles, uint64_t *internal);

// ---- The nearest-rule element quantizer ----

// The nearest-rule decision table (Quantization.LevelSelector.NearestTable, docs/quantization.md
// "How the fast path stays exact"), flattened: for q = 4x/s and k = min(max(floor(q), low), high),
// entry e = 2·(k − low) + (q == k ? 1 : 0) of `entries` holds the level: the bits of its half-steps
// as a binary64 (an integer of at most 11 bits, so its low 41 significand bits are 0) with the
// level's code in the low 8 bits — one load (one gather) gives both. index_between[k − low] /
// index_at_integer[k − low] hold the level's index (q ≠ k / q = k).
typedef struct {
    const uint64_t *entries;    // 2·(high − low + 1) entries
    double low, high;           // integers
    const uint8_t *index_between, *index_at_integer;  // high − low + 1 entries each
    int32_t level_count;        // sorted levels
    const double *levels;       // level_count: half-steps
    const uint32_t *level_codes;// level_count
    uint32_t signed_zero_code;  // the code of level 0 for an x with its sign bit set
} dintsim_nearest_table;

// What a run did, continued element by element in index order (the two sums are binary64 sums in
// element order, exactly as the scalar definition: docs/quantization.md, "Statistics").
typedef struct {
    int64_t nonzero, underflow, clipped;
    double sum_squared_error, sum_squared_signal;
} dintsim_quantize_statistics;

// Codes for x[0 ..< count] with scale s (> 0: a binary32 value, or a product of at most 28 significant
// bits as Quantization.ElementQuantizer allows; every x finite), written to codes[i],
// and the statistics added to *statistics. clip_high, clip_low: LevelSelector's clip bounds times s
// (x is clipped iff 4x ≥ clip_high or 4x ≤ clip_low). Every level gives the same bytes. Returns 0
// (and does nothing) for a level this CPU does not support, else 1.
int32_t dintsim_quantize_nearest(int32_t level, const float *x, uint8_t *codes, int64_t count, double s,
                                 double clip_high, double clip_low, const dintsim_nearest_table *table,
                                 dintsim_quantize_statistics *statistics);

// 8 runs at once, each as dintsim_quantize_nearest would quantize it alone (the same codes and
// statistics, bit for bit): run r is x[r][0 ..< length] with scale s[r], clip bounds clip_high[r]
// and clip_low[r], codes to codes[r], statistics continued in statistics[r]. The AVX-512 level
// takes one run per vector lane, AVX2 runs 0–3 and then 4–7 one per lane; the others quantize the
// runs one after another.
int32_t dintsim_quantize_nearest_runs(int32_t level, const float *const *x, uint8_t *const *codes, int64_t length,
                                      const double *s, const double *clip_high, const double *clip_low,
                                      const dintsim_nearest_table *table, dintsim_quantize_statistics *statistics);

// The largest finite |x[i]| as a bit pattern in the low 32 bits (non-finite values count as 0),
// and bit 32 set if any x[i] is not finite (at the portable level if `level` is not supported).
uint64_t dintsim_max_finite_magnitude_bits(int32_t level, const float *x, int64_t count);

// ---- The MAC replay ----

// A MAC unit or PE as Units.MacModel runs it (docs/mac.md): weights[code] is a weight code's
// value in product units (256 entries), `lanes` products per cycle summed exactly, in_flight =
// pipeline depth − 1 (0, 1 or 2) transactions between the multiply stage and the accumulator;
// the accumulator saturates to [lowest, highest] (saturates = 1) or wraps (sign extension of its
// low 64 − wrap_shift bits); acc_mask keeps its W bits.
typedef struct {
    const int64_t *weights;
    int32_t lanes, in_flight, saturates, wrap_shift;
    int64_t lowest, highest;
    uint64_t acc_mask;
} dintsim_mac_model;

// Stored stimulus of `lines` cycles: per line the control bits (1 rst, 2 valid, 4 clear), the
// lanes' codes and activations (line × lanes), and the expected outputs after the edge
// (acc & acc_mask | valid_out << 63).
typedef struct {
    const uint8_t *control, *codes;
    const int8_t *activations;
    const uint64_t *expected;
    int64_t lines;
} dintsim_mac_stream;

// Plays `count` independent streams, stream k from line starts[k] for counts[k] cycles (after
// line lines − 1 comes line 0), each from the all-zero state (a stream starts at a reset line);
// returns the number of cycles whose outputs differed from `expected`, or −1 for a model out of
// range. Four streams run in lock step, so that their accumulator chains overlap.
int64_t dintsim_mac_replay(const dintsim_mac_model *model, const dintsim_mac_stream *stream, const int64_t *starts,
                           const int64_t *counts, int32_t count);

#endif
