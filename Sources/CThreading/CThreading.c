// GNU pthread and sched extras that Swift cannot import (CPU_SET is a macro).
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include "CThreading.h"

int cthreading_pin_current_thread(const int *cpus, int count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) return EINVAL;
        CPU_SET(cpus[i], &set);
    }
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

int cthreading_name_current_thread(const char *name) {
    char short_name[16];
    int i = 0;
    for (; i < 15 && name[i]; i++) short_name[i] = name[i];
    short_name[i] = 0;
    return pthread_setname_np(pthread_self(), short_name);
}

int cthreading_allowed_cpu_count(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
    int n = CPU_COUNT(&set);
    return n > 0 ? n : 1;
}

int cthreading_cpu_allowed(int cpu) {
    cpu_set_t set;
    if (cpu < 0 || cpu >= CPU_SETSIZE) return 0;
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
    return CPU_ISSET(cpu, &set) ? 1 : 0;
}

void cthreading_daemon_signal_set(void *out) {
    sigset_t *set = (sigset_t *)out;
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    // Their default action is to terminate; a stray kill must not stop a vehicle's daemon.
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGUSR2);
    sigaddset(set, SIGALRM);
}
