#!/usr/bin/env bash
# The README's main-job command. Until the daemon exists, the main job is what the daemon
# will stand on: render a short synthetic drive to MCAP, inspect and replay it, then describe
# and benchmark a committed segmentation model (LR-ASPP MobileNetV3, narrow) on 2 threads.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
"$root/tools/dev/install-deps.sh"
cd "$root"
swift build -c release --product moeseg 2>&1 | (grep -vE '^\[[0-9]+/[0-9]+\] ' || true)
moeseg=.build/release/moeseg
mkdir -p out
$moeseg synth --domain urban --frames 90 --seed 7 --size 512x256 --out out/urban-demo.mcap
$moeseg inspect out/urban-demo.mcap
$moeseg replay out/urban-demo.mcap --max-rate | tail -n 2
model="${MOESEG_MODEL:-Tests/Fixtures/engine/lraspp_mobilenet_v3_large/model.onnx}"
$moeseg inspect "$model"
$moeseg bench --model "$model" --threads 2 --iterations 50 --warmup 5
