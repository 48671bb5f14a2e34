// Thread CPU affinity, which Swift's Glibc module does not expose (it needs _GNU_SOURCE).
#ifndef CKAFFINITY_H
#define CKAFFINITY_H

/// Pins the calling thread to CPU `cpu`; returns 0 on success, an errno value otherwise.
int ck_pin_current_thread(int cpu);

#endif
