// include/process_affinity.h.
#define _GNU_SOURCE
#include "process_affinity.h"
#if defined(__linux__)
#include <dirent.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/types.h>

static cpu_set_t remembered;

// Applies `set` to every thread listed in /proc/self/task; returns how many took it.
static int apply(const cpu_set_t *set) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return 0;
    int applied = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        pid_t tid = (pid_t)atoi(e->d_name);
        if (tid > 0 && sched_setaffinity(tid, sizeof(cpu_set_t), set) == 0) applied++;
    }
    closedir(d);
    return applied;
}

int32_t dintsim_allowed_cpu_count(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    int n = CPU_COUNT(&set);
    return n > 0 ? n : 1;
}

int32_t dintsim_confine_to_one_cpu(void) {
    if (sched_getaffinity(0, sizeof remembered, &remembered) != 0) return 0;
    cpu_set_t one;
    CPU_ZERO(&one);
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &remembered)) {
            CPU_SET(c, &one);
            break;
        }
    }
    if (apply(&one) > 0) return 1;
    apply(&remembered);
    return 0;
}

void dintsim_restore_cpus(void) { apply(&remembered); }
#else
int32_t dintsim_allowed_cpu_count(void) { return 1; }
int32_t dintsim_confine_to_one_cpu(void) { return 0; }
void dintsim_restore_cpus(void) {}
#endif
