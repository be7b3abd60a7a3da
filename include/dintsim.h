/* dintsim golden model: the C ABI of libdintsim (docs/c-api.md).
 *
 * Bit-exact to the vector sets (docs/vectors.md): a MAC / PE stepped one clock at a time, the
 * level quantizer's decision for one element, the Hadamard decoder on one tile. Fixed-width types
 * only; no global state (each dintsim_mac is independent; the last error message is per thread);
 * every call that can fail returns DINTSIM_OK (0) or an error code and leaves a one-line message in
 * dintsim_last_error(). Bad arguments (NULL pointers, unknown names, out-of-range widths) return an
 * error and never crash. Thread safety: distinct objects may be used from distinct threads; one
 * object must not be used from two threads at once.
 *
 * Link: cc -Iinclude prog.c -Lbuild/lib -ldintsim (scripts/build-lib.sh builds build/lib). */
#ifndef DINTSIM_H
#define DINTSIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes. */
#define DINTSIM_OK               0
#define DINTSIM_ERR_NULL         1  /* a required pointer was NULL */
#define DINTSIM_ERR_ARGUMENT     2  /* an unknown name or an out-of-range number */
#define DINTSIM_ERR_CODE         3  /* a reserved or too-wide weight / tile code; nothing was done */

/* Rounding rules of dintsim_quantize_level. */
#define DINTSIM_ROUND_NEAREST_EVEN 0
#define DINTSIM_ROUND_NEAREST_AWAY 1
#define DINTSIM_ROUND_TOWARD_ZERO  2
#define DINTSIM_ROUND_DOWN         3
#define DINTSIM_ROUND_UP           4
#define DINTSIM_ROUND_STOCHASTIC   5  /* the draw: seed and the element's flat index, as in quantize */

/* Flags of dintsim_quantize_level (the quantizer vectors' flags). */
#define DINTSIM_Q_INEXACT          (1u << 0)
#define DINTSIM_Q_TIE              (1u << 1)
#define DINTSIM_Q_UNDERFLOW        (1u << 2)  /* x != 0 became level 0 */
#define DINTSIM_Q_SATURATED        (1u << 3)
#define DINTSIM_Q_CLIPPED          (1u << 4)
#define DINTSIM_Q_SMALLEST_LEVEL   (1u << 5)

/* Flags of dintsim_decode_tile (the decoder vectors' flags). */
#define DINTSIM_D_INEXACT          (1u << 0)
#define DINTSIM_D_SUBNORMAL        (1u << 1)
#define DINTSIM_D_INFINITE         (1u << 2)
#define DINTSIM_D_ZERO             (1u << 3)
#define DINTSIM_D_TIMES_R          (1u << 4)

/* "0.5.0": the same string as `dintsim --version` and Python's dintsim.__version__. */
const char *dintsim_version(void);
/* The calling thread's last error message ("" if none); valid until its next failing call. */
const char *dintsim_last_error(void);

typedef struct dintsim_mac dintsim_mac;

/* unit: "int8-mac" | "dint-mac" | "fp4-mac"; lanes 1..256; pipeline_depth 1..3;
 * acc_width from the unit's adder-tree width to 62; saturate: 0 wrap, 1 saturate.
 * NULL on bad arguments (see dintsim_last_error). */
dintsim_mac *dintsim_mac_create(const char *unit, int32_t lanes, int32_t pipeline_depth,
                                int32_t acc_width, int32_t saturate);
/* One clock cycle, exactly as one line of a vector file: inputs presented on the line
 * (weight_codes[lanes], activations[lanes]), outputs are the registers after the edge; acc is
 * sign-extended to 64 bits. 0 = ok; DINTSIM_ERR_CODE for a code wider than the unit's weight
 * (8 bits INT8, 4 otherwise; the cycle is not taken). A reserved code (dINT 1000) is valid input
 * and multiplies as 0, as in the hardware and the vector sets. acc and valid_out may be NULL. */
int32_t dintsim_mac_step(dintsim_mac *mac, const uint8_t *weight_codes,
                         const int8_t *activations, int32_t valid, int32_t clear,
                         int64_t *acc, int32_t *valid_out);
/* Flags of dintsim_mac_step_flags (the MAC vectors' flags). */
#define DINTSIM_M_WRAPPED              (1u << 0)  /* landed at this edge: left the W-bit range, wrapped */
#define DINTSIM_M_SATURATED            (1u << 1)  /* landed at this edge: left the range, clamped */
#define DINTSIM_M_DENORMAL_WEIGHT      (1u << 2)  /* presented: a lane's weight is a +-1/2 level */
#define DINTSIM_M_RESERVED_WEIGHT      (1u << 3)  /* presented: a lane's weight code is reserved */
#define DINTSIM_M_EXTREME_PRODUCT      (1u << 4)  /* presented: a lane's product is the unit's largest or most negative */
#define DINTSIM_M_CLEAR_WITHOUT_VALID  (1u << 5)  /* presented: clear = 1, valid = 0 */
/* As dintsim_mac_step, and flags (may be NULL): bits 2-5 describe the transaction presented in this
 * cycle, exactly as the line's flags in a vector file; bits 0-1 the transaction that reached the
 * accumulator at this edge, which the vector file reports on the line that presented it, D - 1
 * lines earlier (a reset in between cancels it, and its flag). */
int32_t dintsim_mac_step_flags(dintsim_mac *mac, const uint8_t *weight_codes,
                               const int8_t *activations, int32_t valid, int32_t clear,
                               int64_t *acc, int32_t *valid_out, uint32_t *flags);
/* A line with rst = 1: the pipeline and the accumulator cleared (acc 0, valid_out 0). */
void dintsim_mac_reset(dintsim_mac *mac);
void dintsim_mac_destroy(dintsim_mac *mac);
/* The lanes the object was created with (negative on a NULL mac). */
int32_t dintsim_mac_lanes(const dintsim_mac *mac);

/* format: a level-format preset ("dint4", "int4", "int4-sym", "fp4", "int8-sym", "int8", "uint4",
 * "uint3"); x finite, scale finite and > 0 (binary32 values); rounding DINTSIM_ROUND_*;
 * writes the code's bit pattern and the DINTSIM_Q_* flags (flags may be NULL). */
int32_t dintsim_quantize_level(const char *format, float x, float scale, int32_t rounding,
                               uint64_t seed, uint64_t index, uint8_t *code, uint32_t *flags);

/* As dintsim_quantize_level with the 16-bit stochastic draw given directly (the quantizer vectors'
 * `draw` field: what an RTL quantizer receives); ignored by the deterministic rules. */
int32_t dintsim_quantize_level_draw(const char *format, float x, float scale, int32_t rounding,
                                    uint32_t draw, uint8_t *code, uint32_t *flags);

/* The two above with x and scale as binary32 bit patterns (what an RTL testbench holds; the DPI-C
 * package uses these, since simulators may pass shortreal as a double). */
int32_t dintsim_quantize_level_bits(const char *format, uint32_t x_bits, uint32_t scale_bits, int32_t rounding,
                                    uint64_t seed, uint64_t index, uint8_t *code, uint32_t *flags);
int32_t dintsim_quantize_level_draw_bits(const char *format, uint32_t x_bits, uint32_t scale_bits, int32_t rounding,
                                         uint32_t draw, uint8_t *code, uint32_t *flags);

/* One TAH-Quant tile through the decode spec: tile_size G in {8, 16, 32, 64, 128}; output
 * "fp32" | "bf16" | "fp16"; codes[G] 4-bit codes; pivot in 0..G-1; scale and zero FP16 bit
 * patterns; writes G output bit patterns (low bits for bf16 / fp16) and, when flags is not NULL,
 * the DINTSIM_D_* flags (computed by the exact decoder: slower). */
int32_t dintsim_decode_tile(int32_t tile_size, const char *output, const uint8_t *codes,
                            int32_t flagged, int32_t pivot, uint16_t scale, uint16_t zero,
                            uint32_t *out_bits, uint32_t *flags);

/* A whole tensor, as `dintsim quantize` (level formats): rows x columns row-major binary32 in x;
 * granularity "tensor" | "channel" | "group:G"; writes rows*columns codes and the scales
 * (1, rows, or rows*ceil(columns/G) of them; scales_capacity must hold them; *scale_count gets
 * the number); *stats (may be NULL) gets [elements, nonzero, underflow, clipped] counts. */
int32_t dintsim_quantize_tensor(const char *format, const char *granularity, int32_t rounding,
                                uint64_t seed, const float *x, int64_t rows, int64_t columns,
                                uint8_t *codes, float *scales, int64_t scales_capacity,
                                int64_t *scale_count, int64_t *stats);
/* A 2-D tensor in a block format, as `dintsim quantize --format mxfp4|nvfp4 [--convention C] ...`:
 * scheme a block format's variant name (docs/quantization.md, "Conventions"): "mxfp4" (32-element
 * blocks, UE8M0 scales, the OCP floor rule) or "nvfp4" (16, E4M3 scales, an FP32 tensor scale),
 * optionally followed by a convention (":ocp", ":nvidia", ":torchao", ":compressed-tensors") and
 * then options that override it: mxfp4 ":floor|ceil|rceil|even"; nvfp4 ":decode|encode"
 * (tensor-scale form; tensor_scale is written in it), ":exact-quotient|amax-first|scale-first"
 * (block-scale quotient), ":exact|reciprocal|quotient" (element division),
 * ":allow-zero|min-normal|eighth" (scale floor), ":1x16|16x16" (block shape; 16x16 tiles give
 * ceil(rows/16)*ceil(columns/16) block scales), ":e4m3|ue5m3" (block-scale format); both
 * ":keep|flush" (sign of zero), and ":rht16[-SEED|-te|-mMASK][-bf16]" (the 16-point random Hadamard
 * transform applied first; columns a multiple of 16). rounding 0-4
 * (the elements' rule; 5, stochastic, needs the seeded call below). Writes rows*columns E2M1
 * codes, the block scale codes (rows*ceil(columns/block), or per tile; block_scales_capacity at least that),
 * their count, the tensor scale (1 for MXFP4; may be NULL) and, when stats is not NULL,
 * [elements, nonzero, underflow, clipped]. */
int32_t dintsim_quantize_block_tensor(const char *scheme, int32_t rounding, const float *x, int64_t rows,
                                      int64_t columns, uint8_t *codes, uint8_t *block_scales,
                                      int64_t block_scales_capacity, int64_t *block_scale_count,
                                      float *tensor_scale, int64_t *stats);
/* As dintsim_quantize_block_tensor, with rounding 0-5: stochastic rounding (5) of the elements draws
 * stochastic_bits (1-16; 16 is the default rounder, 8 a software rounder) bits per element from
 * seed, counter = the element's flat index (docs/formats.md, "A B-bit rounder"); a
 * deterministic rule takes stochastic_bits = 16. */
int32_t dintsim_quantize_block_tensor_seeded(const char *scheme, int32_t rounding, uint64_t seed,
                                             int32_t stochastic_bits, const float *x, int64_t rows,
                                             int64_t columns, uint8_t *codes, uint8_t *block_scales,
                                             int64_t block_scales_capacity, int64_t *block_scale_count,
                                             float *tensor_scale, int64_t *stats);
/* As dintsim_quantize_block_tensor_seeded with the tensor scale given instead of derived from x:
 * tensor_scale (finite, > 0) in the scheme's tensor-scale form (S, or G under ":encode"), as a
 * hardware quantizer receives it (the nvfp4-quantizer unit, docs/block-quantizer.md). MXFP4 has
 * no tensor scale: pass 1. */
int32_t dintsim_quantize_block_tensor_scaled(const char *scheme, int32_t rounding, uint64_t seed,
                                             int32_t stochastic_bits, float tensor_scale, const float *x,
                                             int64_t rows, int64_t columns, uint8_t *codes,
                                             uint8_t *block_scales, int64_t block_scales_capacity,
                                             int64_t *block_scale_count, int64_t *stats);

#ifdef __cplusplus
}
#endif
#endif
