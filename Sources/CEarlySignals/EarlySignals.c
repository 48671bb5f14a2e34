// The daemon collects its signals synchronously (sigtimedwait on the control thread), which
// only works if no thread leaves them unblocked. Shared libraries start threads before main:
// OpenBLAS spawns its workers from its ELF constructor, and those threads inherit whatever
// mask was current then. A function in the executable's .preinit_array runs before any shared
// library's constructor, so blocking here reaches every thread the process will ever have,
// and a SIGTERM that arrives during start-up stays pending until the control loop takes it.
#include <signal.h>
#include <string.h>
#include "CEarlySignals.h"
#include "CThreading.h"

static int blocked = 0;

static int is_daemon_command(const char *name) {
    return name && (strcmp(name, "run") == 0 || strcmp(name, "record") == 0);
}

static void early_signals_preinit(int argc, char **argv, char **envp) {
    (void)envp;
    if (argc < 2 || !is_daemon_command(argv[1])) return;
    sigset_t set;
    cthreading_daemon_signal_set(&set);
    sigprocmask(SIG_BLOCK, &set, NULL);
    // A vanished stdout/stderr reader must not kill the daemon; libzmq sends with MSG_NOSIGNAL.
    signal(SIGPIPE, SIG_IGN);
    blocked = 1;
}

__attribute__((section(".preinit_array"), used))
static void (*const early_signals_preinit_entry)(int, char **, char **) = early_signals_preinit;

int early_signals_blocked(void) { return blocked; }
