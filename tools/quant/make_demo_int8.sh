#!/usr/bin/env bash
# Rebuilds models/demo/moe-simple-int8 with `moeseg quantize` from fixed-seed synthetic drives:
# calibration on highway + urban drives (seeds 501/502), the report on fresh drives (601/602) and
# ambiguous (out-of-distribution) ones (603). Deterministic: the same moeseg gives the same files.
#   tools/quant/make_demo_int8.sh [path/to/moeseg]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
moeseg="${1:-$root/.build/release/moeseg}"
work="$root/out/quant-demo"
mkdir -p "$work"
"$moeseg" synth --domain highway --frames 40 --seed 501 --size 512x256 --out "$work/cal_highway.mcap" >/dev/null
"$moeseg" synth --domain urban --frames 40 --seed 502 --size 512x256 --out "$work/cal_urban.mcap" >/dev/null
"$moeseg" synth --domain highway --frames 12 --seed 601 --size 512x256 --out "$work/eval_highway.mcap" >/dev/null
"$moeseg" synth --domain urban --frames 12 --seed 602 --size 512x256 --out "$work/eval_urban.mcap" >/dev/null
"$moeseg" synth --domain ambiguous --frames 12 --seed 603 --size 512x256 --out "$work/eval_ambiguous.mcap" >/dev/null
"$moeseg" quantize --model "$root/models/demo/moe-simple" \
  --calibration "$work/cal_highway.mcap,$work/cal_urban.mcap" --frames 64 \
  --holdout-data "$work/eval_highway.mcap,$work/eval_urban.mcap" --holdout 24 \
  --ood "$work/eval_ambiguous.mcap" --out "$root/models/demo/moe-simple-int8" | tee "$work/report.txt"
