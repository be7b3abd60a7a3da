// The `target` attribute of each instruction-set level's functions (include/kernels.h). A
// function carrying one runs only after dintsim_isa_supported said yes for its level.
#ifndef DINTSIM_TARGETS_H
#define DINTSIM_TARGETS_H
#if defined(__x86_64__)
#include <immintrin.h>
#define POPCOUNT_TARGET __attribute__((target("popcnt,sse4.1")))
#define AVX2_TARGET __attribute__((target("avx2,popcnt")))
#define AVX512_TARGET __attribute__((target("avx512f,avx512vl,avx512vpopcntdq,avx512dq,avx512bw,avx512vbmi,avx2,popcnt")))
#endif
#endif
