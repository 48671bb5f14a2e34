// Process memory housekeeping that Swift's Glibc module does not expose.
#ifndef CKMEMORY_H
#define CKMEMORY_H

/// Returns freed heap memory to the operating system (malloc_trim on glibc; no-op elsewhere).
void ck_release_free_memory(void);

#endif
