#!/usr/bin/env bash
# Renders the demo mixture's training/validation/test recordings into out/data/ (git-ignored).
# Fixed seeds: re-running gives the same frames. Usage: tools/train/make_data.sh [TRAIN_FRAMES] [EVAL_FRAMES]
# MOESEG=path/to/moeseg skips the build (any moeseg of the same generator version renders the same frames).
set -euo pipefail
cd "$(dirname "$0")/../.."
TRAIN_FRAMES=${1:-1500}
EVAL_FRAMES=${2:-300}
SIZE=512x256
OUT=out/data
if [[ -z "${MOESEG:-}" ]]; then
    swift build -c release --product moeseg
    MOESEG=.build/release/moeseg
fi
mkdir -p "$OUT"

render() {  # domain split seed frames
    local file="$OUT/$2_$1.mcap"
    if [[ -s "$file" ]]; then echo "keep $file"; return; fi
    "$MOESEG" synth --domain "$1" --frames "$4" --seed "$3" --size "$SIZE" --out "${file%.mcap}.part.mcap" >/dev/null
    mv "${file%.mcap}.part.mcap" "$file"
    echo "wrote $file ($4 frames, seed $3)"
}

# Seeds: train 1xx, val 2xx, test 3xx; the last digit tells the domain apart.
render highway train 101 "$TRAIN_FRAMES"
render urban   train 102 "$TRAIN_FRAMES"
for domain_seed in "highway 1" "urban 2" "ambiguous 3"; do
    set -- $domain_seed
    render "$1" val  "20$2" "$EVAL_FRAMES"
    render "$1" test "30$2" "$EVAL_FRAMES"
done
