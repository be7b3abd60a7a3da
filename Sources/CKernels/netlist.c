// The netlist simulator's evaluation loop at each instruction-set level (include/kernels.h).
// One body (EVALUATE) instantiated per level × words per node × counting; each level's functions
// carry their instruction set as a `target` attribute, so only the chosen function ever runs
// instructions the CPU may lack. Every level computes the same values and counts
// (CircuitsTests, "kernelsAgree").
#include "kernels.h"
#include "targets.h"
#include <stddef.h>

typedef uint64_t u64x2 __attribute__((vector_size(16)));
typedef uint64_t u64x4 __attribute__((vector_size(32)));

// The body. V: the vector type of one node's W words; POP(x): per-lane popcount of x (type V),
// a macro each instantiation defines first.
#define STORE(counter, p, node, expr)                                                      \
    do {                                                                                   \
        V new_ = (expr);                                                                   \
        if (COUNTING) counter[p] += POP((v[node] ^ new_) & mask);                          \
        v[node] = new_;                                                                    \
    } while (0)

#define GATES(op)                                                                          \
    for (int32_t p = r->start; p < r->end; p++) {                                          \
        const dintsim_cell *c = &program[p];                                               \
        V a = v[c->in0], b = v[c->in1];                                                    \
        (void)b;                                                                           \
        STORE(t, p, c->out0, op);                                                          \
    }

#define EVALUATE                                                                           \
    V *v = (V *)values, *t = (V *)toggles, *ti = (V *)internal;                            \
    V mask = *(const V *)masks;                                                            \
    for (const dintsim_cell_run *r = runs; r < runs + run_count; r++) {                    \
        switch (r->kind) {                                                                 \
        case DINTSIM_CELL_INV: GATES(~a) break;                                            \
        case DINTSIM_CELL_AND2: GATES(a & b) break;                                        \
        case DINTSIM_CELL_OR2: GATES(a | b) break;                                         \
        case DINTSIM_CELL_NAND2: GATES(~(a & b)) break;                                    \
        case DINTSIM_CELL_NOR2: GATES(~(a | b)) break;                                     \
        case DINTSIM_CELL_XOR2: GATES(a ^ b) break;                                        \
        case DINTSIM_CELL_XNOR2: GATES(~(a ^ b)) break;                                    \
        case DINTSIM_CELL_MUX2:                                                            \
            for (int32_t p = r->start; p < r->end; p++) {                                  \
                const dintsim_cell *c = &program[p];                                       \
                V s = v[c->in0], d0 = v[c->in1], d1 = v[c->in2];                           \
                STORE(t, p, c->out0, (d0 & ~s) | (d1 & s));                                \
            }                                                                              \
            break;                                                                         \
        case DINTSIM_CELL_HALF_ADDER:                                                      \
            for (int32_t p = r->start; p < r->end; p++) {                                  \
                const dintsim_cell *c = &program[p];                                       \
                V a = v[c->in0], b = v[c->in1];                                            \
                STORE(t, p, c->out1, a & b);                                               \
                STORE(t, p, c->out0, a ^ b);                                               \
            }                                                                              \
            break;                                                                         \
        case DINTSIM_CELL_FULL_ADDER:                                                      \
            for (int32_t p = r->start; p < r->end; p++) {                                  \
                const dintsim_cell *c = &program[p];                                       \
                V a = v[c->in0], b = v[c->in1], cin = v[c->in2];                           \
                V h = a ^ b;                                                               \
                STORE(ti, p, c->out2, h);                                                  \
                STORE(t, p, c->out1, (a & b) | (h & cin));                                 \
                STORE(t, p, c->out0, h ^ cin);                                             \
            }                                                                              \
            break;                                                                         \
        default: break;                                                                    \
        }                                                                                  \
    }

#define PARAMETERS                                                                         \
    const dintsim_cell *program, const dintsim_cell_run *runs, int32_t run_count,          \
        uint64_t *values, const uint64_t *masks, uint64_t *toggles, uint64_t *internal
#define ARGUMENTS program, runs, run_count, values, masks, toggles, internal

// Defines NAME##_count and NAME##_plain for vector type V_ under TARGET_, with the popcount
// macro POP defined at the point of use.
#define KERNEL(TARGET_, NAME, V_)                                                    \
    TARGET_ static void NAME##_count(PARAMETERS) {                                         \
        typedef V_ V;                                                                      \
        enum { COUNTING = 1 };                                                             \
        EVALUATE                                                                           \
    }                                                                                      \
    TARGET_ static void NAME##_plain(PARAMETERS) {                                         \
        typedef V_ V;                                                                      \
        enum { COUNTING = 0 };                                                             \
        (void)toggles; (void)internal;                                                     \
        EVALUATE                                                                           \
    }

#define LANES2(f, x) ((u64x2){f((x)[0]), f((x)[1])})
#define LANES4(f, x) ((u64x4){f((x)[0]), f((x)[1]), f((x)[2]), f((x)[3])})

// Portable: the compiler's popcount for the baseline target.
#define POP1(x) ((uint64_t)__builtin_popcountll(x))
#define POP2(x) LANES2(POP1, x)
#define POP4(x) LANES4(POP1, x)
#define NO_TARGET
#define POP POP1
KERNEL(NO_TARGET, portable1, uint64_t)
#undef POP
#define POP POP2
KERNEL(NO_TARGET, portable2, u64x2)
#undef POP
#define POP POP4
KERNEL(NO_TARGET, portable4, u64x4)

#if DINTSIM_X86
#undef POP
#define POP POP1
KERNEL(POPCOUNT_TARGET, popcount1, uint64_t)
#undef POP
#define POP POP2
KERNEL(POPCOUNT_TARGET, popcount2, u64x2)
#undef POP
#define POP POP4
KERNEL(POPCOUNT_TARGET, popcount4, u64x4)

// AVX2: per-lane popcount from a nibble table: vpshufb looks up each nibble's count, vpsadbw
// sums each lane's 8 bytes.
#define NIBBLE_COUNTS 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4
AVX2_TARGET static inline __attribute__((always_inline)) u64x2 avx2_pop2(u64x2 x) {
    const __m128i table = _mm_setr_epi8(NIBBLE_COUNTS), low = _mm_set1_epi8(0x0f);
    __m128i b = (__m128i)x;
    __m128i n = _mm_add_epi8(_mm_shuffle_epi8(table, _mm_and_si128(b, low)),
                             _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(b, 4), low)));
    return (u64x2)_mm_sad_epu8(n, _mm_setzero_si128());
}
AVX2_TARGET static inline __attribute__((always_inline)) u64x4 avx2_pop4(u64x4 x) {
    const __m256i table = _mm256_setr_epi8(NIBBLE_COUNTS, NIBBLE_COUNTS), low = _mm256_set1_epi8(0x0f);
    __m256i b = (__m256i)x;
    __m256i n = _mm256_add_epi8(_mm256_shuffle_epi8(table, _mm256_and_si256(b, low)),
                                _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(b, 4), low)));
    return (u64x4)_mm256_sad_epu8(n, _mm256_setzero_si256());
}
#undef POP
#define POP POP1
KERNEL(AVX2_TARGET, avx2_1, uint64_t)
#undef POP
#define POP avx2_pop2
KERNEL(AVX2_TARGET, avx2_2, u64x2)
#undef POP
#define POP avx2_pop4
KERNEL(AVX2_TARGET, avx2_4, u64x4)

#define AVX512_POP2(x) ((u64x2)_mm_popcnt_epi64((__m128i)(x)))
#define AVX512_POP4(x) ((u64x4)_mm256_popcnt_epi64((__m256i)(x)))
#undef POP
#define POP POP1
KERNEL(AVX512_TARGET, avx512_1, uint64_t)
#undef POP
#define POP AVX512_POP2
KERNEL(AVX512_TARGET, avx512_2, u64x2)
#undef POP
#define POP AVX512_POP4
KERNEL(AVX512_TARGET, avx512_4, u64x4)
#endif

#define DISPATCH(NAME)                                                                     \
    do {                                                                                   \
        if (toggles) NAME##_count(ARGUMENTS); else NAME##_plain(ARGUMENTS);                \
        return 1;                                                                          \
    } while (0)

int32_t dintsim_netlist_evaluate(int32_t level, int32_t words, PARAMETERS) {
    if (!dintsim_isa_supported(level)) return 0;
    switch (level * 8 + words) {
    case DINTSIM_ISA_PORTABLE * 8 + 1: DISPATCH(portable1);
    case DINTSIM_ISA_PORTABLE * 8 + 2: DISPATCH(portable2);
    case DINTSIM_ISA_PORTABLE * 8 + 4: DISPATCH(portable4);
#if DINTSIM_X86
    case DINTSIM_ISA_POPCOUNT * 8 + 1: DISPATCH(popcount1);
    case DINTSIM_ISA_POPCOUNT * 8 + 2: DISPATCH(popcount2);
    case DINTSIM_ISA_POPCOUNT * 8 + 4: DISPATCH(popcount4);
    case DINTSIM_ISA_AVX2 * 8 + 1: DISPATCH(avx2_1);
    case DINTSIM_ISA_AVX2 * 8 + 2: DISPATCH(avx2_2);
    case DINTSIM_ISA_AVX2 * 8 + 4: DISPATCH(avx2_4);
    case DINTSIM_ISA_AVX512 * 8 + 1: DISPATCH(avx512_1);
    case DINTSIM_ISA_AVX512 * 8 + 2: DISPATCH(avx512_2);
    case DINTSIM_ISA_AVX512 * 8 + 4: DISPATCH(avx512_4);
#endif
    default: return 0;
    }
}
