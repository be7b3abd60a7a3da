// Confining the whole process to one CPU and back (Linux; `bench`'s per-core figures,
// Benchmarks.FigureRecorder). Every thread of the process is moved, not only the caller: worker
// threads already exist when a measurement starts.
#ifndef DINTSIM_PROCESS_AFFINITY_H
#define DINTSIM_PROCESS_AFFINITY_H
#include <stdint.h>

// CPUs the process may run on (1 where this cannot be asked).
int32_t dintsim_allowed_cpu_count(void);

// Moves every thread of the process to the first allowed CPU, remembering the allowed set.
// Returns 1 on success, 0 if not possible (then nothing changed).
int32_t dintsim_confine_to_one_cpu(void);

// Gives every thread of the process the set remembered by dintsim_confine_to_one_cpu back.
void dintsim_restore_cpus(void);

#endif
