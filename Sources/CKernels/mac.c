// The word-level MAC/PE model replaying stored stimulus (include/kernels.h, "The MAC replay"):
// Units.MacModel's cycle (pipeline registers, clear, valid, wrap or saturate, reset), run on
// several independent line streams in lock step so that their accumulator chains overlap.
// Plain C: every CPU runs the same code. Tested equal to MacModel line for line (UnitsTests,
// "macReplayKernelEqualsMacModel").
#include "kernels.h"
#include <stddef.h>

#define STREAMS 4

typedef struct {
    int64_t acc;                        // the accumulator register
    int64_t sum0, sum1;                 // pipeline registers: lane sums, newest first
    uint32_t flags0, flags1;            // their valid (1) and clear (2) bits
} mac_state;

// The products of one line summed (the adder tree: exact, at most 62 bits).
static inline __attribute__((always_inline)) int64_t lane_sum(const int64_t *weights, const uint8_t *codes,
                                                              const int8_t *acts, int32_t lanes) {
    int64_t sum = 0;
    for (int32_t l = 0; l < lanes; l++) sum += weights[codes[l]] * (int64_t)acts[l];
    return sum;
}

// The model's constants and the stimulus, loaded once into locals (so that they stay in registers).
typedef struct {
    const uint8_t *control, *codes;
    const int8_t *acts;
    const uint64_t *expected;
    const int64_t *weights;
    uint64_t acc_mask, half;
    int64_t lowest, highest;
} mac_context;

// One cycle of one stream at `line`; returns 1 if the outputs after the edge differ from the
// expected. in_flight (0, 1, 2), saturates and lanes are constants of each instantiation.
static inline __attribute__((always_inline)) int64_t step(mac_state *st, const mac_context c, int64_t line,
                                                          int32_t in_flight, int32_t saturates, int32_t lanes) {
    uint32_t x = c.control[line];
    if (__builtin_expect(x & 1, 0)) {   // rst at this edge: every register ← 0
        *st = (mac_state){0};
        return c.expected[line] != 0;
    }
    int64_t sum = lane_sum(c.weights, c.codes + line * lanes, c.acts + line * lanes, lanes);
    uint32_t flags = (x >> 1) & 3;      // valid, clear
    int64_t cur_sum; uint32_t cur_flags;
    if (in_flight == 0) { cur_sum = sum; cur_flags = flags; }
    else if (in_flight == 1) { cur_sum = st->sum0; cur_flags = st->flags0; st->sum0 = sum; st->flags0 = flags; }
    else {
        cur_sum = st->sum1; cur_flags = st->flags1;
        st->sum1 = st->sum0; st->flags1 = st->flags0; st->sum0 = sum; st->flags0 = flags;
    }
    int64_t valid = -(int64_t)(cur_flags & 1), keep = (int64_t)((cur_flags >> 1) & 1) - 1;
    int64_t exact = (st->acc & keep) + cur_sum;
    int64_t next;
    if (saturates) next = exact < c.lowest ? c.lowest : exact > c.highest ? c.highest : exact;
    else next = (int64_t)((((uint64_t)exact & c.acc_mask) ^ c.half) - c.half);   // sign extension of the low W bits
    st->acc = (next & valid) | (st->acc & ~valid);
    uint64_t observed = ((uint64_t)st->acc & c.acc_mask) | ((uint64_t)(cur_flags & 1) << 63);
    return observed != c.expected[line];
}

static inline __attribute__((always_inline)) int64_t replay(const dintsim_mac_model *m, const dintsim_mac_stream *s,
                                                            const int64_t *starts, const int64_t *counts, int32_t count,
                                                            int32_t in_flight, int32_t saturates, int32_t lanes) {
    const mac_context c = {s->control, s->codes, s->activations, s->expected, m->weights, m->acc_mask,
                           (uint64_t)m->highest + 1, m->lowest, m->highest};
    const int64_t lines = s->lines;
    int64_t failed = 0;
    for (int32_t first = 0; first < count; first += STREAMS) {
        int32_t n = count - first < STREAMS ? count - first : STREAMS;
        mac_state st[STREAMS] = {{0}};
        int64_t line[STREAMS] = {0}, left[STREAMS] = {0};
        for (int32_t k = 0; k < n; k++) { line[k] = starts[first + k]; left[k] = counts[first + k]; }
        if (n == STREAMS) {
            // The streams in lock step, four independent chains per iteration, in chunks that
            // reach neither a stream's end nor the last line.
            for (;;) {
                int64_t chunk = INT64_MAX;
                for (int32_t k = 0; k < STREAMS; k++) {
                    int64_t r = left[k] < lines - line[k] ? left[k] : lines - line[k];
                    if (r < chunk) chunk = r;
                }
                if (chunk == 0) break;
                // The states as locals for the chunk (never address-taken: kept in registers).
                mac_state s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3];
                int64_t a = line[0], b = line[1], d = line[2], e = line[3], f = 0;
                for (int64_t i = 0; i < chunk; i++) {
                    f += step(&s0, c, a + i, in_flight, saturates, lanes);
                    f += step(&s1, c, b + i, in_flight, saturates, lanes);
                    f += step(&s2, c, d + i, in_flight, saturates, lanes);
                    f += step(&s3, c, e + i, in_flight, saturates, lanes);
                }
                failed += f;
                st[0] = s0; st[1] = s1; st[2] = s2; st[3] = s3;
                for (int32_t k = 0; k < STREAMS; k++) {
                    line[k] += chunk; left[k] -= chunk;
                    if (line[k] == lines) line[k] = 0;
                }
            }
        }
        for (int32_t k = 0; k < n; k++)
            for (; left[k] > 0; left[k]--) {
                failed += step(&st[k], c, line[k], in_flight, saturates, lanes);
                line[k] = line[k] + 1 == lines ? 0 : line[k] + 1;
            }
    }
    return failed;
}

#define CASE(d, sat)                                                                              \
    case (d) * 2 + (sat):                                                                         \
        return m->lanes == 1    ? replay(m, s, starts, counts, count, d, sat, 1)                  \
               : m->lanes == 16 ? replay(m, s, starts, counts, count, d, sat, 16)                 \
                                : replay(m, s, starts, counts, count, d, sat, m->lanes);

int64_t dintsim_mac_replay(const dintsim_mac_model *m, const dintsim_mac_stream *s, const int64_t *starts,
                           const int64_t *counts, int32_t count) {
    if (m->in_flight < 0 || m->in_flight > 2 || s->lines <= 0) return -1;
    switch (m->in_flight * 2 + (m->saturates ? 1 : 0)) {
        CASE(0, 0) CASE(0, 1) CASE(1, 0) CASE(1, 1) CASE(2, 0) CASE(2, 1)
    }
    return -1;
}
