import Glibc

/// Ignores SIGXFSZ, so that a file size limit (`ulimit -f`, systemd's LimitFSIZE=) makes
/// write(2) fail with EFBIG, which the writers report as one error line, instead of
/// killing the process with a core dump in the middle of a record.
func ignoreFileSizeSignal() {
    signal(SIGXFSZ, SIG_IGN)
}
