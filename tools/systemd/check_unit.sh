#!/usr/bin/env bash
# Checks systemd/moeseg@.service: `systemd-analyze verify` must print nothing (it exits 0 even on
# unknown keys, so any output is a failure) and `systemd-analyze security --offline=true` must
# rate the unit at most 2.5 (override with MAX_EXPOSURE). Prints the score; exits non-zero with
# one line per problem.
#
# verify checks that ExecStart's binary exists, and /usr/local/bin/moeseg usually does not on a
# build machine; it also wants an instance name for a template. So both checks run on a copy,
# moeseg@check.service in a temporary directory, whose ExecStart points at an existing
# executable (this script's `true`); everything else is the unit byte for byte.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
unit="${1:-$root/systemd/moeseg@.service}"
max="${MAX_EXPOSURE:-2.5}"
command -v systemd-analyze >/dev/null || { echo "check_unit: systemd-analyze not found (apt-get install systemd)"; exit 2; }
[ -f "$unit" ] || { echo "check_unit: no unit file at $unit"; exit 2; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
copy="$tmp/moeseg@check.service"
true_bin="$(command -v true)"
grep -c '^ExecStart=/usr/local/bin/moeseg ' "$unit" | grep -qx 1 || { echo "check_unit: expected one ExecStart=/usr/local/bin/moeseg ... line"; exit 1; }
sed "s#^ExecStart=/usr/local/bin/moeseg #ExecStart=$true_bin #" "$unit" > "$copy"

fail=0
verify="$(cd "$tmp" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$copy" 2>&1)" || true
if [ -n "$verify" ]; then
  echo "check_unit: systemd-analyze verify printed:"
  printf '%s\n' "$verify" | sed 's/^/  /'
  fail=1
else
  echo "verify: clean"
fi

security="$(cd "$tmp" && SYSTEMD_LOG_COLOR=0 systemd-analyze security --offline=true --no-pager "$copy" 2>&1)" || true
line="$(printf '%s\n' "$security" | grep -E 'Overall exposure level' || true)"
score="$(printf '%s\n' "$line" | grep -oE '[0-9]+\.[0-9]+' | head -1)"
if [ -z "$score" ]; then
  echo "check_unit: systemd-analyze security gave no score:"
  printf '%s\n' "$security" | tail -5 | sed 's/^/  /'
  fail=1
else
  echo "security: exposure $score (limit $max)"
  if awk -v s="$score" -v m="$max" 'BEGIN { exit !(s > m) }'; then
    echo "check_unit: exposure $score is above $max; what it still flags:"
    printf '%s\n' "$security" | grep '✗' | sed 's/^/  /'
    fail=1
  fi
fi
exit $fail
