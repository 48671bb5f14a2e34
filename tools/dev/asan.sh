#!/usr/bin/env bash
# Runs the whole test suite once under AddressSanitizer (not part of CI: about 3x the time of
# tools/dev/test.sh and a separate build in .build-asan). Prints swift test's summary line and
# any sanitizer report; exit status is swift test's.
#   tools/dev/asan.sh [--filter REGEX]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
"$root/tools/dev/install-deps.sh"
export MOESEG_PYTHON="$root/.venv/bin/python"
# Leak checking stays off: Swift's runtime metadata and libzmq's context caches are
# process-lifetime by design and would bury real reports. Errors stop at the first one.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0:print_summary=1"
log="$root/.build-asan/asan-test.log"
mkdir -p "$root/.build-asan"
set +e
swift test --scratch-path "$root/.build-asan" --sanitize=address "$@" > "$log" 2>&1
status=$?
set -e
grep -E "ERROR: AddressSanitizer|SUMMARY: AddressSanitizer|^✘ Test run|^✔ Test run|error: fatalError" "$log" | head -40 || true
echo "asan: exit $status, full log in $log"
exit "$status"
