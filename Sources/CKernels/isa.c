// Which instruction-set levels this CPU supports (include/kernels.h).
#include "kernels.h"
#include "targets.h"
#include <stdatomic.h>

static int32_t detect(int32_t level) {
    switch (level) {
    case DINTSIM_ISA_PORTABLE: return 1;
#if DINTSIM_X86
    case DINTSIM_ISA_POPCOUNT:
        __builtin_cpu_init();
        return __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("sse4.1") ? 1 : 0;
    case DINTSIM_ISA_AVX2:
        __builtin_cpu_init();
        return detect(DINTSIM_ISA_POPCOUNT) && __builtin_cpu_supports("avx2") ? 1 : 0;
    case DINTSIM_ISA_AVX512:
        __builtin_cpu_init();
        return detect(DINTSIM_ISA_AVX2) && __builtin_cpu_supports("avx512f") &&
                       __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vpopcntdq") &&
                       __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
                       __builtin_cpu_supports("avx512vbmi")
                   ? 1 : 0;
#endif
    default: return 0;
    }
}

// Every entry point checks its level, so the answer is kept: 0 not yet asked, 1 no, 2 yes
// (threads that race store the same answer).
int32_t dintsim_isa_supported(int32_t level) {
    static _Atomic int32_t known[4];
    if (level < DINTSIM_ISA_PORTABLE || level > DINTSIM_ISA_AVX512) return 0;
    int32_t k = atomic_load_explicit(&known[level], memory_order_relaxed);
    if (k == 0) {
        k = detect(level) ? 2 : 1;
        atomic_store_explicit(&known[level], k, memory_order_relaxed);
    }
    return k == 2 ? 1 : 0;
}
