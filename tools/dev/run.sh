#!/usr/bin/env bash
# The README's main-job command. Until the daemon exists (issue: the daemon), the main job
# is the engine: build moeseg in release mode, describe a committed segmentation model and
# benchmark it on 2 threads.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
"$root/tools/dev/install-deps.sh"
cd "$root"
swift build -c release --product moeseg 2>&1 | (grep -vE '^\[[0-9]+/[0-9]+\] ' || true)
model="${MOESEG_MODEL:-Tests/Fixtures/engine/lraspp_mobilenet_v3_large/model.onnx}"
.build/release/moeseg inspect "$model"
.build/release/moeseg bench --model "$model" --threads 2 --iterations 50 --warmup 5
