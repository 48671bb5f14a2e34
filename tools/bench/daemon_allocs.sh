#!/usr/bin/env bash
# Allocations per frame of the daemon in steady state: runs `moeseg run` on a looping replay
# for N1 and N2 frames under an LD_PRELOAD malloc counter (tools/bench/malloc_count.c) and
# prints (allocs(N2) - allocs(N1)) / (N2 - N1), so start-up and shutdown cancel out.
#   tools/bench/daemon_allocs.sh MODEL_DIR [N1=200] [N2=600]    (MOESEG=binary, OUT=dir; absolute or relative to the repo)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
model="${1:?model directory}"
n1="${2:-200}"
n2="${3:-600}"
out="${OUT:-out/allocs}"
moeseg="${MOESEG:-.build/release/moeseg}"
mkdir -p "$out"
gcc -O2 -shared -fPIC -o "$out/malloc_count.so" tools/bench/malloc_count.c
recording="$out/allocs.mcap"
[ -f "$recording" ] || "$moeseg" synth --domain urban --frames 60 --seed 4 --size 512x256 --out "$recording" >/dev/null
count() {
  MALLOC_COUNT_FILE="$root/$out/count-$1" LD_PRELOAD="$root/$out/malloc_count.so" "$moeseg" run \
    --source "replay:$recording" --model "$model" --endpoint "ipc://$root/$out/allocs.sock" \
    --max-frames "$1" --max-rate --log-level error >&2
  cat "$root/$out/count-$1"
}
a=$(count "$n1")
b=$(count "$n2")
echo "{\"frames\": [$n1, $n2], \"allocations\": [$a, $b], \"per_frame\": $(python3 -c "print(round(($b - $a) / ($n2 - $n1), 2))")}"
