#include "CKAffinity.h"

#include <errno.h>
#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

int ck_pin_current_thread(int cpu) {
#if defined(__linux__)
    if (cpu < 0 || cpu >= CPU_SETSIZE) return EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
#else
    (void)cpu;
    return ENOSYS;
#endif
}
