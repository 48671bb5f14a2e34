#!/usr/bin/env bash
# Renders the demo mixture's training/validation/test recordings into out/data/ (git-ignored).
# Each seed is one drive with one set of conditions (weather, light, scenery), so every split is
# many short drives: out/data/<split>_<domain>_<seed>.mcap. Fixed seeds: re-running gives the
# same frames. Usage: tools/train/make_data.sh [TRAIN_DRIVES] [EVAL_DRIVES] [FRAMES_PER_DRIVE]
# MOESEG=path/to/moeseg skips the build.
set -euo pipefail
cd "$(dirname "$0")/../.."
TRAIN_DRIVES=${1:-30}
EVAL_DRIVES=${2:-6}
FRAMES=${3:-50}
SIZE=512x256
OUT=out/data
if [[ -z "${MOESEG:-}" ]]; then
    swift build -c release --product moeseg
    MOESEG=.build/release/moeseg
fi
mkdir -p "$OUT"

render() {  # domain split seed
    local file="$OUT/$2_$1_$3.mcap"
    if [[ -s "$file" ]]; then return; fi
    "$MOESEG" synth --domain "$1" --frames "$FRAMES" --seed "$3" --size "$SIZE" --out "${file%.mcap}.part.mcap" >/dev/null 2>&1
    mv "${file%.mcap}.part.mcap" "$file"
}

# Seeds: domain offset (highway 10000, urban 20000, ambiguous 30000) + split offset
# (train 0, val 1000, test 2000) + drive index.
declare -A DOMAIN_SEED=([highway]=10000 [urban]=20000 [ambiguous]=30000)
for domain in highway urban ambiguous; do
    base=${DOMAIN_SEED[$domain]}
    if [[ $domain != ambiguous ]]; then
        for ((i = 0; i < TRAIN_DRIVES; i++)); do render "$domain" train $((base + i)); done
    fi
    for ((i = 0; i < EVAL_DRIVES; i++)); do
        render "$domain" val $((base + 1000 + i))
        render "$domain" test $((base + 2000 + i))
    done
    echo "$domain: done"
done
ls "$OUT"/*.mcap | wc -l
