#ifndef CEARLYSIGNALS_H
#define CEARLYSIGNALS_H

/// Whether the pre-init hook blocked the daemon's signals (argv[1] was a daemon command).
int early_signals_blocked(void);

#endif
