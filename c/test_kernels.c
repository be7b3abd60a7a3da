// The C kernels (Sources/CKernels, include/kernels.h) at every instruction-set level this build
// and CPU have, on seeded random inputs: every level must give the same bytes. Prints one line per
// kernel with an FNV-1a hash of everything it produced, and the levels it ran; scripts/
// test-kernels.sh builds this twice — as on x86-64, and with -DDINTSIM_PORTABLE_ONLY (the portable
// level alone, as on every other architecture) — and requires the same hashes from both.
#include "kernels.h"
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// SplitMix64 (docs: Formats.CounterRandom's mixing function), as a sequential stream.
static uint64_t state = 2026;
static uint64_t next(void) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t fnv(uint64_t h, const void *bytes, size_t n) {
    const uint8_t *p = bytes;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001B3ull;
    return h;
}
#define FNV0 0xCBF29CE484222325ull

static int failures = 0;
static void agree(const char *kernel, int level, uint64_t hash, uint64_t reference) {
    if (hash != reference) {
        fprintf(stderr, "%s: level %d gives %016" PRIx64 ", the portable level %016" PRIx64 "\n", kernel, level, hash, reference);
        failures++;
    }
}

// ---- the netlist simulator: a random program of every cell kind over 256 nodes ----
enum { NODES = 256, INPUTS = 32, CELLS = 600 };
static uint64_t netlist_hash(int level, int words, const dintsim_cell *program, const dintsim_cell_run *runs, int run_count) {
    uint64_t *values = aligned_alloc(32, NODES * 4 * 8), *toggles = aligned_alloc(32, CELLS * 4 * 8);
    uint64_t *internal = aligned_alloc(32, CELLS * 4 * 8), masks[4] __attribute__((aligned(32)));
    memset(values, 0, NODES * 4 * 8); memset(toggles, 0, CELLS * 4 * 8); memset(internal, 0, CELLS * 4 * 8);
    uint64_t saved = state, h = FNV0;
    state = 7;
    for (int j = 0; j < words; j++) masks[j] = next() | 1;
    for (int cycle = 0; cycle < 20; cycle++) {
        for (int n = 0; n < INPUTS * words; n++) values[n] = next();
        if (!dintsim_netlist_evaluate(level, words, program, runs, run_count, values, masks, toggles, internal)) return 0;
        h = fnv(h, values, NODES * words * 8);
    }
    h = fnv(h, toggles, CELLS * words * 8);
    h = fnv(h, internal, CELLS * words * 8);
    state = saved;
    free(values); free(toggles); free(internal);
    return h;
}

static void netlist(void) {
    static dintsim_cell program[CELLS];
    static dintsim_cell_run runs[CELLS];
    int run_count = 0, next_node = INPUTS;
    for (int p = 0; p < CELLS;) {
        int kind = (int)(next() % 10), length = 1 + (int)(next() % 12);
        runs[run_count] = (dintsim_cell_run){kind, p, p + length > CELLS ? CELLS : p + length};
        for (; p < runs[run_count].end; p++) {
            dintsim_cell *c = &program[p];
            c->in0 = (int32_t)(next() % (uint64_t)next_node);
            c->in1 = (int32_t)(next() % (uint64_t)next_node);
            c->in2 = (int32_t)(next() % (uint64_t)next_node);
            // Outputs anywhere past the inputs (a node may be written again: still one defined order).
            c->out0 = INPUTS + (int32_t)(next() % (NODES - INPUTS));
            c->out1 = INPUTS + (int32_t)(next() % (NODES - INPUTS));
            c->out2 = INPUTS + (int32_t)(next() % (NODES - INPUTS));
            if (next_node < NODES) next_node++;
        }
        run_count++;
    }
    for (int words = 1; words <= 4; words *= 2) {
        uint64_t reference = netlist_hash(DINTSIM_ISA_PORTABLE, words, program, runs, run_count);
        for (int level = 1; level <= DINTSIM_ISA_AVX512; level++)
            if (dintsim_isa_supported(level)) agree("netlist", level, netlist_hash(level, words, program, runs, run_count), reference);
        printf("netlist W=%d %016" PRIx64 "\n", words, reference);
    }
}

// ---- the nearest-rule quantizer: INT4-like levels −7…7 (level j at j·s), ties to even ----
enum { LENGTH = 1003 };
static dintsim_nearest_table int4_table(uint64_t *entries, uint8_t *between, uint8_t *at, double *levels, uint32_t *codes) {
    // q = 4x/s; level j sits at q = 4j, the midpoint between j and j + 1 at q = 4j + 2.
    const int low = -30, high = 30;
    for (int j = -7; j <= 7; j++) { levels[j + 7] = 2.0 * j; codes[j + 7] = (uint32_t)j & 0xf; }
    for (int k = low; k <= high; k++) {
        // q in (k, k + 1): the nearest level to (k + ½)/4; q = k: to k/4, a tie (k ≡ 2 mod 4) to the even level.
        int inside = (int)floor((k + 0.5) / 4.0 + 0.5);
        int onK = (int)floor(k / 4.0 + 0.5);
        if (((k % 4) + 4) % 4 == 2 && (onK & 1)) onK -= 1;
        inside = inside < -7 ? -7 : inside > 7 ? 7 : inside;
        onK = onK < -7 ? -7 : onK > 7 ? 7 : onK;
        between[k - low] = (uint8_t)(inside + 7);
        at[k - low] = (uint8_t)(onK + 7);
        for (int isInt = 0; isInt < 2; isInt++) {
            int j = isInt ? onK : inside;
            double h = 2.0 * j;
            uint64_t bits;
            memcpy(&bits, &h, 8);
            entries[2 * (k - low) + isInt] = bits | codes[j + 7];
        }
    }
    return (dintsim_nearest_table){entries, low, high, between, at, 15, levels, codes, 0x8};
}

static uint64_t quantize_hash(int level, const dintsim_nearest_table *t, float *const *x, const double *s) {
    static uint8_t codes[8][LENGTH];
    uint8_t *out[8];
    dintsim_quantize_statistics st[8], single;
    double ch[8], cl[8];
    memset(st, 0, sizeof st); memset(&single, 0, sizeof single);
    for (int r = 0; r < 8; r++) { out[r] = codes[r]; ch[r] = 29.0 * s[r]; cl[r] = -29.0 * s[r]; }
    if (!dintsim_quantize_nearest_runs(level, (const float *const *)x, out, LENGTH, s, ch, cl, t, st)) return 0;
    uint64_t h = fnv(FNV0, codes, sizeof codes);
    h = fnv(h, st, sizeof st);
    if (!dintsim_quantize_nearest(level, x[0], codes[0], LENGTH, s[0], ch[0], cl[0], t, &single)) return 0;
    h = fnv(h, codes[0], LENGTH);
    h = fnv(h, &single, sizeof single);
    for (int r = 0; r < 8; r++) {
        uint64_t m = dintsim_max_finite_magnitude_bits(level, x[r], LENGTH);
        h = fnv(h, &m, 8);
    }
    return h;
}

static void quantize(void) {
    uint64_t entries[122];
    uint8_t between[61], at[61];
    double levels[15];
    uint32_t codes[15];
    dintsim_nearest_table t = int4_table(entries, between, at, levels, codes);
    static float data[8][LENGTH];
    float *x[8];
    double s[8];
    for (int r = 0; r < 8; r++) {
        x[r] = data[r];
        s[r] = ldexp(1.0 + (double)(next() % 64) / 64.0, -3 + (int)(next() % 5));   // 7 bits: s·n/2 exact
        for (int i = 0; i < LENGTH; i++) {
            uint64_t u = next();
            switch (u % 5) {
            case 0: data[r][i] = (float)(s[r] * ((double)(int)(u >> 8 & 31) - 15) / 2.0); break;  // exact ties and levels
            case 1: data[r][i] = (u >> 9 & 1) ? -0.0f : 0.0f; break;
            case 2: data[r][i] = (float)ldexp((double)(u >> 11) * 0x1p-53, -140) * ((u >> 10 & 1) ? -1 : 1); break;  // subnormal
            default: data[r][i] = (float)(((double)(u >> 11) * 0x1p-53 - 0.5) * 20.0 * s[r]);  // clipping rows too
            }
        }
    }
    if (dintsim_max_finite_magnitude_bits(DINTSIM_ISA_PORTABLE, (float[]){1.0f, INFINITY}, 2) >> 32 != 1) {
        fprintf(stderr, "max bits: an infinity was not flagged\n");
        failures++;
    }
    uint64_t reference = quantize_hash(DINTSIM_ISA_PORTABLE, &t, x, s);
    for (int level = 1; level <= DINTSIM_ISA_AVX512; level++)
        if (dintsim_isa_supported(level)) agree("quantize", level, quantize_hash(level, &t, x, s), reference);
    printf("quantize %016" PRIx64 "\n", reference);
}

// ---- the MAC replay: a 16-lane dINT-like PE, depth 3, a narrow saturating accumulator ----
static void mac(void) {
    enum { LINES = 5000, LANES = 16 };
    static uint8_t control[LINES], codes[LINES * LANES];
    static int8_t acts[LINES * LANES];
    static uint64_t expected[LINES];
    int64_t weights[256];
    for (int c = 0; c < 256; c++) weights[c] = (int64_t)(int8_t)c;
    for (int l = 0; l < LINES; l++) {
        control[l] = (uint8_t)(l == 0 || next() % 50 == 0 ? 1 : (next() % 4 ? 2 : 0) | (next() % 9 ? 0 : 4));
        for (int j = 0; j < LANES; j++) { codes[l * LANES + j] = (uint8_t)next(); acts[l * LANES + j] = (int8_t)next(); }
        expected[l] = next() % 3 ? 0 : next() & 0x3ffff;   // mostly wrong: the count is what is hashed
    }
    uint64_t h = FNV0;
    for (int depth = 1; depth <= 3; depth++)
        for (int saturates = 0; saturates < 2; saturates++)
            for (int lanes = 1; lanes <= LANES; lanes += LANES - 1) {
                int w = 20;
                dintsim_mac_model m = {weights, lanes, depth - 1, saturates, 64 - w, -(1ll << (w - 1)), (1ll << (w - 1)) - 1, (1ull << w) - 1};
                dintsim_mac_stream s = {control, codes, acts, expected, LINES};
                int64_t starts[6] = {0, 17, 4999, 2500, 1234, 3}, counts[6] = {5000, 9000, 3, 12000, 700, 0};
                int64_t failed = dintsim_mac_replay(&m, &s, starts, counts, 6);
                h = fnv(h, &failed, 8);
            }
    printf("mac %016" PRIx64 "\n", h);
}

int main(void) {
    printf("levels");
    for (int level = 0; level <= DINTSIM_ISA_AVX512; level++)
        if (dintsim_isa_supported(level)) printf(" %d", level);
    printf("\n");
    netlist();
    quantize();
    mac();
    if (failures) { fprintf(stderr, "%d kernel disagreements\n", failures); return 1; }
    return 0;
}
