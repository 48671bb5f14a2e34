#ifndef CTHREADING_H
#define CTHREADING_H

/// Pins the calling thread to the given CPUs; returns 0 or an errno value.
int cthreading_pin_current_thread(const int *cpus, int count);

/// Names the calling thread (at most 15 characters are kept); returns 0 or an errno value.
int cthreading_name_current_thread(const char *name);

/// Number of CPUs this process may run on (its affinity mask), at least 1.
int cthreading_allowed_cpu_count(void);

/// Whether CPU `cpu` is in this process's affinity mask.
int cthreading_cpu_allowed(int cpu);

/// Fills the sigset_t at `sigset_out` with the signals the daemon blocks in every thread and
/// collects with sigtimedwait (SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM).
void cthreading_daemon_signal_set(void *sigset_out);

#endif
