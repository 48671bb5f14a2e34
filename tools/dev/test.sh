#!/usr/bin/env bash
# The README's test command: installs dependencies, then runs every test (Swift tests,
# including those that check moeseg against onnxruntime fixtures and the Python mcap reader).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
"$root/tools/dev/install-deps.sh"
cd "$root"
export MOESEG_PYTHON="$root/.venv/bin/python"
# Build progress and per-test pass lines are noise; failures, issues and the closing
# summary line are kept.
swift test 2>&1 | grep --line-buffered -vP '^\[\d+/\d+\] |^. Test (?!run with).*(passed after [\d.]+ seconds|started)\.$|^. Suite .*(passed after [\d.]+ seconds|started)\.$'
exit "${PIPESTATUS[0]}"
