// The nearest-rule element quantizer at each instruction-set level (include/kernels.h). Every
// level makes the same decisions and the same binary64 operations per element as the scalar
// body (ELEMENT) — the vector levels evaluate 4 or 8 elements' operations side by side, each
// lane rounding exactly as the scalar operation does — and adds the two sums in element order.
// Multiply-add contraction is off: a fused a·b + c would round once instead of twice.
#pragma STDC FP_CONTRACT OFF
#include "kernels.h"
#include "targets.h"
#include <math.h>
#include <string.h>

// One element, as Quantization's scalar definition (docs/quantization.md, "How the fast path
// stays exact"; LevelSelector.NearestTable): q = 4x/s, the table entry of floor(q) clamped to
// [low, high] and of whether q is that integer; level 0 keeps the sign of x in its code.
#define ELEMENT(i)                                                                          \
    do {                                                                                    \
        double xd = (double)x[i], fourX = 4.0 * xd;                                         \
        double q = fourX / s;                                                               \
        double k = floor(q);                                                                \
        k = k < t->low ? t->low : k;                                                        \
        k = k > t->high ? t->high : k;                                                      \
        int64_t e = 2 * ((int64_t)k - (int64_t)t->low) + (q == k ? 1 : 0);                  \
        uint64_t entry = t->entries[e], hBits = entry & ~(uint64_t)0xff;                    \
        double h;                                                                           \
        memcpy(&h, &hBits, 8);                                                              \
        codes[i] = (uint8_t)(h == 0 && signbit(xd) ? t->signed_zero_code : (entry & 0xff)); \
        clipped += (fourX >= clip_high) | (fourX <= clip_low);                              \
        double deq = h * 0.5 * s;                                                           \
        int64_t nz = xd != 0;                                                               \
        nonzero += nz;                                                                      \
        underflow += nz & (deq == 0);                                                       \
        double err = xd - deq;                                                              \
        se += err * err;                                                                    \
        ss += xd * xd;                                                                      \
    } while (0)

#define BEGIN                                                                               \
    int64_t nonzero = st->nonzero, underflow = st->underflow, clipped = st->clipped;        \
    double se = st->sum_squared_error, ss = st->sum_squared_signal;
#define END                                                                                 \
    st->nonzero = nonzero; st->underflow = underflow; st->clipped = clipped;                \
    st->sum_squared_error = se; st->sum_squared_signal = ss;

#define PARAMETERS                                                                          \
    const float *x, uint8_t *codes, int64_t count, double s, double clip_high, double clip_low, \
        const dintsim_nearest_table *t, dintsim_quantize_statistics *st
#define ARGUMENTS x, codes, count, s, clip_high, clip_low, t, st
#define RUN_PARAMETERS                                                                      \
    const float *const *x, uint8_t *const *codes, int64_t length, const double *s,          \
        const double *clip_high, const double *clip_low, const dintsim_nearest_table *t,    \
        dintsim_quantize_statistics *st
#define RUN_ARGUMENTS x, codes, length, s, clip_high, clip_low, t, st

static void nearest_portable(PARAMETERS) {
    BEGIN
    for (int64_t i = 0; i < count; i++) ELEMENT(i);
    END
}

// The group maximum: the largest finite magnitude's bits, and bit 32 set if any value is not finite.
#define MAX_BITS                                                                            \
    uint32_t m = 0, nonfinite = 0;                                                          \
    for (int64_t i = 0; i < count; i++) {                                                   \
        uint32_t b;                                                                         \
        memcpy(&b, &x[i], 4);                                                               \
        b &= 0x7fffffffu;                                                                   \
        nonfinite |= b >= 0x7f800000u;                                                      \
        b = b < 0x7f800000u ? b : 0;                                                        \
        m = b > m ? b : m;                                                                  \
    }                                                                                       \
    return (uint64_t)m | (uint64_t)nonfinite << 32;

static uint64_t max_bits_portable(const float *x, int64_t count) { MAX_BITS }

#if DINTSIM_X86
// The statistics of runs side by side, one vector lane per run: loaded from and stored back to
// each run's record.
typedef struct {
    double se[8], ss[8];
    int64_t nonzero[8], underflow[8], clipped[8];
} run_lanes;

static inline void lanes_load(run_lanes *l, const dintsim_quantize_statistics *st, int runs) {
    for (int r = 0; r < runs; r++) {
        l->se[r] = st[r].sum_squared_error; l->ss[r] = st[r].sum_squared_signal;
        l->nonzero[r] = st[r].nonzero; l->underflow[r] = st[r].underflow; l->clipped[r] = st[r].clipped;
    }
}

static inline void lanes_store(const run_lanes *l, dintsim_quantize_statistics *st, int runs) {
    for (int r = 0; r < runs; r++) {
        st[r].sum_squared_error = l->se[r]; st[r].sum_squared_signal = l->ss[r];
        st[r].nonzero = l->nonzero[r]; st[r].underflow = l->underflow[r]; st[r].clipped = l->clipped[r];
    }
}

// The popcount level: the scalar body, with SSE4.1's roundsd for floor.
POPCOUNT_TARGET static void nearest_popcount(PARAMETERS) {
    BEGIN
    for (int64_t i = 0; i < count; i++) ELEMENT(i);
    END
}
POPCOUNT_TARGET static uint64_t max_bits_popcount(const float *x, int64_t count) { MAX_BITS }

// AVX2, the level decision for 4 elements x (binary32) at scales sv: q = 4x/s, the floor table's
// packed entries by gather; the levels' half-steps in *h, the 4 codes (signed zero applied) in
// the low 4 bytes of the result.
AVX2_TARGET static inline __attribute__((always_inline)) int32_t avx2_codes4(__m128 xf, __m256d fourX, __m256d sv,
                                                                             const dintsim_nearest_table *t, __m256d *h) {
    const __m256d one = _mm256_set1_pd(1.0);
    const __m256i lowByte = _mm256_set1_epi64x(0xff);
    __m256d q = _mm256_div_pd(fourX, sv);
    __m256d k = _mm256_min_pd(_mm256_max_pd(_mm256_floor_pd(q), _mm256_set1_pd(t->low)), _mm256_set1_pd(t->high));
    __m128i isInt = _mm256_cvtpd_epi32(_mm256_and_pd(_mm256_cmp_pd(q, k, _CMP_EQ_OQ), one));
    __m128i e = _mm_add_epi32(_mm_slli_epi32(_mm_sub_epi32(_mm256_cvtpd_epi32(k), _mm_set1_epi32((int32_t)t->low)), 1), isInt);
    __m256i entry = _mm256_i32gather_epi64((const long long *)t->entries, e, 8);
    *h = _mm256_castsi256_pd(_mm256_andnot_si256(lowByte, entry));
    // The codes (low byte of each entry) as 4 × 32 bits.
    __m128i code = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_and_si256(entry, lowByte), _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
    __m128i zeroLevel = _mm256_cvtpd_epi32(_mm256_and_pd(_mm256_cmp_pd(*h, _mm256_setzero_pd(), _CMP_EQ_OQ), one));
    __m128i negative = _mm_srli_epi32(_mm_castps_si128(xf), 31);
    __m128i useSigned = _mm_sub_epi32(_mm_setzero_si128(), _mm_and_si128(zeroLevel, negative));
    code = _mm_blendv_epi8(code, _mm_set1_epi32((int32_t)t->signed_zero_code), useSigned);
    return _mm_cvtsi128_si32(_mm_shuffle_epi8(code, _mm_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)));
}

// AVX2: 4 elements per step (binary64 lanes), table entries by gather.
AVX2_TARGET static void nearest_avx2(PARAMETERS) {
    BEGIN
    const __m256d four = _mm256_set1_pd(4.0), half = _mm256_set1_pd(0.5), sv = _mm256_set1_pd(s), zero = _mm256_setzero_pd();
    const __m256d clipH = _mm256_set1_pd(clip_high), clipL = _mm256_set1_pd(clip_low);
    int64_t i = 0;
    double e2[4], s2[4];
    for (; i + 4 <= count; i += 4) {
        __m128 xf = _mm_loadu_ps(x + i);
        __m256d xd = _mm256_cvtps_pd(xf);
        __m256d fourX = _mm256_mul_pd(xd, four);
        __m256d h;
        int32_t packed = avx2_codes4(xf, fourX, sv, t, &h);
        memcpy(codes + i, &packed, 4);
        int clip = _mm256_movemask_pd(_mm256_or_pd(_mm256_cmp_pd(fourX, clipH, _CMP_GE_OQ), _mm256_cmp_pd(fourX, clipL, _CMP_LE_OQ)));
        int nz = _mm256_movemask_pd(_mm256_cmp_pd(xd, zero, _CMP_NEQ_OQ));
        __m256d deq = _mm256_mul_pd(_mm256_mul_pd(h, half), sv);
        int under = nz & _mm256_movemask_pd(_mm256_cmp_pd(deq, zero, _CMP_EQ_OQ));
        clipped += __builtin_popcount((unsigned)clip);
        nonzero += __builtin_popcount((unsigned)nz);
        underflow += __builtin_popcount((unsigned)under);
        __m256d err = _mm256_sub_pd(xd, deq);
        _mm256_storeu_pd(e2, _mm256_mul_pd(err, err));
        _mm256_storeu_pd(s2, _mm256_mul_pd(xd, xd));
        se += e2[0]; ss += s2[0];
        se += e2[1]; ss += s2[1];
        se += e2[2]; ss += s2[2];
        se += e2[3]; ss += s2[3];
    }
    for (; i < count; i++) ELEMENT(i);
    END
}
AVX2_TARGET static uint64_t max_bits_avx2(const float *x, int64_t count) { MAX_BITS }

// AVX2, 4 runs side by side, one per binary64 lane (as nearest_runs_avx512 does 8): each step
// loads 4 elements of every run and transposes them, so that vector c holds element i + c of the
// 4 runs, and each run's sums are a lane added column by column, in the run's element order.
// Table entries by gather. The runs' codes: byte 4c + r of a column-major vector, shuffled to 4r + c.
AVX2_TARGET static void nearest_runs4_avx2(const float *const *x, uint8_t *const *codes, int64_t length, const double *s,
                                           const double *clip_high, const double *clip_low, const dintsim_nearest_table *t,
                                           dintsim_quantize_statistics *st) {
    const __m256d four = _mm256_set1_pd(4.0), half = _mm256_set1_pd(0.5), zero = _mm256_setzero_pd();
    const __m256d sv = _mm256_loadu_pd(s), clipH = _mm256_loadu_pd(clip_high), clipL = _mm256_loadu_pd(clip_low);
    const __m128i toRows = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    run_lanes lanes;
    lanes_load(&lanes, st, 4);
    __m256d se = _mm256_loadu_pd(lanes.se), ss = _mm256_loadu_pd(lanes.ss);
    __m256i nonzero = _mm256_loadu_si256((const __m256i *)lanes.nonzero), underflow = _mm256_loadu_si256((const __m256i *)lanes.underflow);
    __m256i clipped = _mm256_loadu_si256((const __m256i *)lanes.clipped);
    int64_t i = 0;
    for (; i + 4 <= length; i += 4) {
        __m128 c0 = _mm_loadu_ps(x[0] + i), c1 = _mm_loadu_ps(x[1] + i), c2 = _mm_loadu_ps(x[2] + i), c3 = _mm_loadu_ps(x[3] + i);
        _MM_TRANSPOSE4_PS(c0, c1, c2, c3);
        const __m128 column[4] = {c0, c1, c2, c3};
        int32_t packed[4];
        for (int c = 0; c < 4; c++) {
            __m256d xd = _mm256_cvtps_pd(column[c]);
            __m256d fourX = _mm256_mul_pd(xd, four);
            __m256d h;
            packed[c] = avx2_codes4(column[c], fourX, sv, t, &h);
            __m256d clip = _mm256_or_pd(_mm256_cmp_pd(fourX, clipH, _CMP_GE_OQ), _mm256_cmp_pd(fourX, clipL, _CMP_LE_OQ));
            __m256d nz = _mm256_cmp_pd(xd, zero, _CMP_NEQ_OQ);
            __m256d deq = _mm256_mul_pd(_mm256_mul_pd(h, half), sv);
            __m256d under = _mm256_and_pd(nz, _mm256_cmp_pd(deq, zero, _CMP_EQ_OQ));
            // A true comparison is all ones (−1): subtracting it counts one.
            clipped = _mm256_sub_epi64(clipped, _mm256_castpd_si256(clip));
            nonzero = _mm256_sub_epi64(nonzero, _mm256_castpd_si256(nz));
            underflow = _mm256_sub_epi64(underflow, _mm256_castpd_si256(under));
            __m256d err = _mm256_sub_pd(xd, deq);
            se = _mm256_add_pd(se, _mm256_mul_pd(err, err));
            ss = _mm256_add_pd(ss, _mm256_mul_pd(xd, xd));
        }
        __m128i rows = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)packed), toRows);
        int32_t row[4];
        _mm_storeu_si128((__m128i *)row, rows);
        for (int r = 0; r < 4; r++) memcpy(codes[r] + i, &row[r], 4);
    }
    _mm256_storeu_pd(lanes.se, se); _mm256_storeu_pd(lanes.ss, ss);
    _mm256_storeu_si256((__m256i *)lanes.nonzero, nonzero); _mm256_storeu_si256((__m256i *)lanes.underflow, underflow);
    _mm256_storeu_si256((__m256i *)lanes.clipped, clipped);
    lanes_store(&lanes, st, 4);
    for (int r = 0; r < 4; r++) {
        nearest_avx2(x[r] + i, codes[r] + i, length - i, s[r], clip_high[r], clip_low[r], t, &st[r]);
    }
}

// The statistics of 8 elements, in element order (the two sums as the scalar body adds them).
#define STATISTICS8                                                                         \
    __mmask8 clip = _mm512_cmp_pd_mask(fourX, clipH, _CMP_GE_OQ) | _mm512_cmp_pd_mask(fourX, clipL, _CMP_LE_OQ); \
    __mmask8 nz = _mm512_cmp_pd_mask(xd, zero, _CMP_NEQ_OQ);                                \
    __m512d deq = _mm512_mul_pd(_mm512_mul_pd(h, half), sv);                                \
    __mmask8 under = nz & _mm512_cmp_pd_mask(deq, zero, _CMP_EQ_OQ);                        \
    clipped += __builtin_popcount(clip);                                                    \
    nonzero += __builtin_popcount(nz);                                                      \
    underflow += __builtin_popcount(under);                                                 \
    __m512d err = _mm512_sub_pd(xd, deq);                                                   \
    _mm512_storeu_pd(e2, _mm512_mul_pd(err, err));                                          \
    _mm512_storeu_pd(s2, _mm512_mul_pd(xd, xd));                                            \
    for (int l = 0; l < 8; l++) {                                                           \
        se += e2[l];                                                                        \
        ss += s2[l];                                                                        \
    }

// The level index of formats of at most 16 levels whose floor table has at most 64 integers k
// (every 4-bit format): k − low selects a byte of the 64-byte tables of level indices for "q is
// not k" and "q is k" (one VPERMB each, in byte 0 of every 64-bit lane).
AVX512_TARGET static inline __attribute__((always_inline)) __m512i small_index(__m512d q, __m512d low, __m512d high,
                                                                               __m512i between, __m512i atInteger) {
    __m512d k = _mm512_roundscale_pd(q, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    k = _mm512_min_pd(_mm512_max_pd(k, low), high);
    __m512i offset = _mm512_cvtpd_epi64(_mm512_sub_pd(k, low));
    __m512i index = _mm512_mask_mov_epi64(_mm512_permutexvar_epi8(offset, between), _mm512_cmp_pd_mask(q, k, _CMP_EQ_OQ),
                                          _mm512_permutexvar_epi8(offset, atInteger));
    return _mm512_and_si512(index, _mm512_set1_epi64(0xff));
}

// Formats whose table fits registers: at most 16 levels, at most 64 integers k.
#define SMALL(t) ((t)->level_count <= 16 && (t)->high - (t)->low + 1 <= 64)

// The level decision for 8 quotients at once. Small formats: the level index from the two 64-byte
// tables of level indices (VPERMB, `small_index`), levels and codes (padded to 16 with the last)
// from registers by two-register permutes. Others: the floor table's packed entries by gather.
typedef struct {
    int small;
    __m512d low, high, levelsLow, levelsHigh;
    __m512i codesLow, codesHigh, between, atInteger;
    const uint64_t *entries;
} levels8;

AVX512_TARGET static inline __attribute__((always_inline)) levels8 levels8_of(const dintsim_nearest_table *t) {
    double levels[16] = {0};
    int64_t levelCodes[16] = {0};
    uint8_t between[64] = {0}, atInteger[64] = {0};
    levels8 L;
    L.small = SMALL(t);
    if (L.small) {
        const int32_t n = t->level_count, entries = (int32_t)(t->high - t->low) + 1;
        for (int j = 0; j < 16; j++) {
            levels[j] = t->levels[j < n ? j : n - 1];
            levelCodes[j] = t->level_codes[j < n ? j : n - 1];
        }
        for (int j = 0; j < entries; j++) {
            between[j] = t->index_between[j];
            atInteger[j] = t->index_at_integer[j];
        }
    }
    L.low = _mm512_set1_pd(t->low);
    L.high = _mm512_set1_pd(t->high);
    L.levelsLow = _mm512_loadu_pd(levels);
    L.levelsHigh = _mm512_loadu_pd(levels + 8);
    L.codesLow = _mm512_loadu_si512((const void *)levelCodes);
    L.codesHigh = _mm512_loadu_si512((const void *)(levelCodes + 8));
    L.between = _mm512_loadu_si512((const void *)between);
    L.atInteger = _mm512_loadu_si512((const void *)atInteger);
    L.entries = t->entries;
    return L;
}

// Half-steps of the 8 levels in *h; their codes, one per 64-bit lane.
AVX512_TARGET static inline __attribute__((always_inline)) __m512i levels8_lookup(const levels8 *L, __m512d q, __m512d *h) {
    if (L->small) {
        __m512i index = small_index(q, L->low, L->high, L->between, L->atInteger);
        *h = _mm512_permutex2var_pd(L->levelsLow, index, L->levelsHigh);
        return _mm512_permutex2var_epi64(L->codesLow, index, L->codesHigh);
    }
    __m512d k = _mm512_roundscale_pd(q, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    k = _mm512_min_pd(_mm512_max_pd(k, L->low), L->high);
    __m512i e = _mm512_slli_epi64(_mm512_cvtpd_epi64(_mm512_sub_pd(k, L->low)), 1);
    e = _mm512_mask_add_epi64(e, _mm512_cmp_pd_mask(q, k, _CMP_EQ_OQ), e, _mm512_set1_epi64(1));
    __m512i entry = _mm512_i64gather_epi64(e, (const void *)L->entries, 8);
    *h = _mm512_castsi512_pd(_mm512_andnot_si512(_mm512_set1_epi64(0xff), entry));
    return _mm512_and_si512(entry, _mm512_set1_epi64(0xff));
}

AVX512_TARGET static uint64_t max_bits_avx512(const float *x, int64_t count) { MAX_BITS }

// AVX-512, one run: 8 elements per step.
AVX512_TARGET static void nearest_avx512(PARAMETERS) {
    BEGIN
    const __m512d four = _mm512_set1_pd(4.0), half = _mm512_set1_pd(0.5), sv = _mm512_set1_pd(s), zero = _mm512_setzero_pd();
    const __m512d clipH = _mm512_set1_pd(clip_high), clipL = _mm512_set1_pd(clip_low);
    const __m512i szc = _mm512_set1_epi64(t->signed_zero_code);
    const levels8 L = levels8_of(t);
    int64_t i = 0;
    double e2[8], s2[8];
    for (; i + 8 <= count; i += 8) {
        __m256 xf = _mm256_loadu_ps(x + i);
        __m512d xd = _mm512_cvtps_pd(xf);
        __m512d fourX = _mm512_mul_pd(xd, four);
        __m512d q = _mm512_div_pd(fourX, sv);
        __m512d h;
        __m512i code = levels8_lookup(&L, q, &h);
        __mmask8 useSigned = _mm512_cmp_pd_mask(h, zero, _CMP_EQ_OQ) & (__mmask8)_mm256_movemask_ps(xf);
        code = _mm512_mask_mov_epi64(code, useSigned, szc);
        _mm_storel_epi64((__m128i *)(codes + i), _mm512_cvtepi64_epi8(code));
        STATISTICS8
    }
    for (; i < count; i++) ELEMENT(i);
    END
}

// 8 runs side by side, one per binary64 lane: each step loads 8 elements of every run and
// transposes them, so that vector c holds element i + c of runs 0–7. Each run's sums are then
// vector lanes added column by column — in every run's own element order, as the scalar body
// adds them — and the dependency chain of the sums is shared by 8 runs instead of paid by each.
AVX512_TARGET static inline __attribute__((always_inline)) void transpose8(__m256 r[8]) {
    __m256 a0 = _mm256_unpacklo_ps(r[0], r[1]), a1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 a2 = _mm256_unpacklo_ps(r[2], r[3]), a3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 a4 = _mm256_unpacklo_ps(r[4], r[5]), a5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 a6 = _mm256_unpacklo_ps(r[6], r[7]), a7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 b0 = _mm256_shuffle_ps(a0, a2, 0x44), b1 = _mm256_shuffle_ps(a0, a2, 0xEE);
    __m256 b2 = _mm256_shuffle_ps(a1, a3, 0x44), b3 = _mm256_shuffle_ps(a1, a3, 0xEE);
    __m256 b4 = _mm256_shuffle_ps(a4, a6, 0x44), b5 = _mm256_shuffle_ps(a4, a6, 0xEE);
    __m256 b6 = _mm256_shuffle_ps(a5, a7, 0x44), b7 = _mm256_shuffle_ps(a5, a7, 0xEE);
    r[0] = _mm256_permute2f128_ps(b0, b4, 0x20); r[4] = _mm256_permute2f128_ps(b0, b4, 0x31);
    r[1] = _mm256_permute2f128_ps(b1, b5, 0x20); r[5] = _mm256_permute2f128_ps(b1, b5, 0x31);
    r[2] = _mm256_permute2f128_ps(b2, b6, 0x20); r[6] = _mm256_permute2f128_ps(b2, b6, 0x31);
    r[3] = _mm256_permute2f128_ps(b3, b7, 0x20); r[7] = _mm256_permute2f128_ps(b3, b7, 0x31);
}

AVX512_TARGET static void nearest_runs_avx512(RUN_PARAMETERS) {
    const __m512d four = _mm512_set1_pd(4.0), half = _mm512_set1_pd(0.5), zero = _mm512_setzero_pd();
    const __m512d sv = _mm512_loadu_pd(s), clipH = _mm512_loadu_pd(clip_high), clipL = _mm512_loadu_pd(clip_low);
    const __m512i szc = _mm512_set1_epi64(t->signed_zero_code), minusOne = _mm512_set1_epi64(-1);
    const levels8 L = levels8_of(t);
    // Byte k of the transposed codes: column k mod 8 of run k / 8 (from byte 8·column + run).
    uint8_t transpose[64];
    for (int k = 0; k < 64; k++) transpose[k] = (uint8_t)((k % 8) * 8 + k / 8);
    const __m512i byteTranspose = _mm512_loadu_si512((const void *)transpose);
    run_lanes lanes;
    lanes_load(&lanes, st, 8);
    __m512d se = _mm512_loadu_pd(lanes.se), ss = _mm512_loadu_pd(lanes.ss);
    __m512i nonzero = _mm512_loadu_si512((const void *)lanes.nonzero), underflow = _mm512_loadu_si512((const void *)lanes.underflow);
    __m512i clipped = _mm512_loadu_si512((const void *)lanes.clipped);
    int64_t i = 0;
    for (; i + 8 <= length; i += 8) {
        __m256 column[8];
        for (int r = 0; r < 8; r++) column[r] = _mm256_loadu_ps(x[r] + i);
        transpose8(column);
        uint64_t codeColumns[8];
        for (int c = 0; c < 8; c++) {
            __m512d xd = _mm512_cvtps_pd(column[c]);
            __m512d fourX = _mm512_mul_pd(xd, four);
            __m512d q = _mm512_div_pd(fourX, sv);
            __m512d h;
            __m512i code = levels8_lookup(&L, q, &h);
            __mmask8 useSigned = _mm512_cmp_pd_mask(h, zero, _CMP_EQ_OQ) & (__mmask8)_mm256_movemask_ps(column[c]);
            code = _mm512_mask_mov_epi64(code, useSigned, szc);
            _mm_storel_epi64((__m128i *)&codeColumns[c], _mm512_cvtepi64_epi8(code));
            __mmask8 clip = _mm512_cmp_pd_mask(fourX, clipH, _CMP_GE_OQ) | _mm512_cmp_pd_mask(fourX, clipL, _CMP_LE_OQ);
            __mmask8 nz = _mm512_cmp_pd_mask(xd, zero, _CMP_NEQ_OQ);
            __m512d deq = _mm512_mul_pd(_mm512_mul_pd(h, half), sv);
            __mmask8 under = nz & _mm512_cmp_pd_mask(deq, zero, _CMP_EQ_OQ);
            clipped = _mm512_mask_sub_epi64(clipped, clip, clipped, minusOne);
            nonzero = _mm512_mask_sub_epi64(nonzero, nz, nonzero, minusOne);
            underflow = _mm512_mask_sub_epi64(underflow, under, underflow, minusOne);
            __m512d err = _mm512_sub_pd(xd, deq);
            se = _mm512_add_pd(se, _mm512_mul_pd(err, err));
            ss = _mm512_add_pd(ss, _mm512_mul_pd(xd, xd));
        }
        uint64_t rows[8];
        _mm512_storeu_si512((void *)rows, _mm512_permutexvar_epi8(byteTranspose, _mm512_loadu_si512((const void *)codeColumns)));
        for (int r = 0; r < 8; r++) memcpy(codes[r] + i, &rows[r], 8);
    }
    _mm512_storeu_pd(lanes.se, se); _mm512_storeu_pd(lanes.ss, ss);
    _mm512_storeu_si512((void *)lanes.nonzero, nonzero); _mm512_storeu_si512((void *)lanes.underflow, underflow);
    _mm512_storeu_si512((void *)lanes.clipped, clipped);
    lanes_store(&lanes, st, 8);
    for (int r = 0; r < 8; r++) {
        // The remaining elements of each run, in order.
        nearest_avx512(x[r] + i, codes[r] + i, length - i, s[r], clip_high[r], clip_low[r], t, &st[r]);
    }
}
#endif

int32_t dintsim_quantize_nearest_runs(int32_t level, RUN_PARAMETERS) {
    if (!dintsim_isa_supported(level)) return 0;
#if DINTSIM_X86
    if (level == DINTSIM_ISA_AVX512) {
        nearest_runs_avx512(RUN_ARGUMENTS);
        return 1;
    }
    if (level == DINTSIM_ISA_AVX2) {
        nearest_runs4_avx2(x, codes, length, s, clip_high, clip_low, t, st);
        nearest_runs4_avx2(x + 4, codes + 4, length, s + 4, clip_high + 4, clip_low + 4, t, st + 4);
        return 1;
    }
#endif
    for (int r = 0; r < 8; r++) dintsim_quantize_nearest(level, x[r], codes[r], length, s[r], clip_high[r], clip_low[r], t, &st[r]);
    return 1;
}

int32_t dintsim_quantize_nearest(int32_t level, PARAMETERS) {
    if (!dintsim_isa_supported(level)) return 0;
    switch (level) {
    case DINTSIM_ISA_PORTABLE: nearest_portable(ARGUMENTS); return 1;
#if DINTSIM_X86
    case DINTSIM_ISA_POPCOUNT: nearest_popcount(ARGUMENTS); return 1;
    case DINTSIM_ISA_AVX2: nearest_avx2(ARGUMENTS); return 1;
    case DINTSIM_ISA_AVX512: nearest_avx512(ARGUMENTS); return 1;
#endif
    default: return 0;
    }
}

uint64_t dintsim_max_finite_magnitude_bits(int32_t level, const float *x, int64_t count) {
    switch (dintsim_isa_supported(level) ? level : DINTSIM_ISA_PORTABLE) {
#if DINTSIM_X86
    case DINTSIM_ISA_POPCOUNT: return max_bits_popcount(x, count);
    case DINTSIM_ISA_AVX2: return max_bits_avx2(x, count);
    case DINTSIM_ISA_AVX512: return max_bits_avx512(x, count);
#endif
    default: return max_bits_portable(x, count);
    }
}
