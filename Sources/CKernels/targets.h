// The `target` attribute of each instruction-set level's functions (include/kernels.h). A
// function carrying one runs only after dintsim_isa_supported said yes for its level.
#ifndef DINTSIM_TARGETS_H
#define DINTSIM_TARGETS_H
// DINTSIM_X86: the x86-64 levels are compiled (not with -DDINTSIM_PORTABLE_ONLY, which checks that
// the portable level stands alone, as on every other architecture).
#if defined(__x86_64__) && !defined(DINTSIM_PORTABLE_ONLY)
#define DINTSIM_X86 1
#else
#define DINTSIM_X86 0
#endif
#if DINTSIM_X86
#include <immintrin.h>
#define POPCOUNT_TARGET __attribute__((target("popcnt,sse4.1")))
#define AVX2_TARGET __attribute__((target("avx2,popcnt")))
#define AVX512_TARGET __attribute__((target("avx512f,avx512vl,avx512vpopcntdq,avx512dq,avx512bw,avx512vbmi,avx2,popcnt")))
#endif
#endif
