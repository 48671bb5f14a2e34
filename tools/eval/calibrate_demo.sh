#!/usr/bin/env bash
# Refits the committed demo config's OOD thresholds (config/moeseg.toml [ood], and the embedded
# copy) with `moeseg calibrate` at a 1 % frame false-positive rate, on 8 synthetic
# in-distribution drives (4 highway, 4 urban; clear and overcast) of 100 frames at 512x256,
# checked against 2 ambiguous drives. Deterministic: the drives come from fixed seeds.
#   tools/eval/calibrate_demo.sh [MOESEG_BINARY]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
moeseg="${1:-$root/.build/debug/moeseg}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
data=()
for spec in highway:101 highway:102 highway:103 highway:111 urban:105 urban:106 urban:107 urban:108; do
  domain=${spec%:*}; seed=${spec#*:}
  "$moeseg" synth --domain "$domain" --frames 100 --seed "$seed" --size 512x256 --out "$work/$domain-$seed.mcap" >/dev/null
  data+=("$work/$domain-$seed.mcap")
done
ood=()
for seed in 301 302; do
  "$moeseg" synth --domain ambiguous --frames 100 --seed "$seed" --size 512x256 --out "$work/ambiguous-$seed.mcap" >/dev/null
  ood+=("$work/ambiguous-$seed.mcap")
done
join() { local IFS=,; echo "$*"; }
"$moeseg" calibrate --config "$root/config/moeseg.toml" --data "$(join "${data[@]}")" --ood "$(join "${ood[@]}")" \
  --target-fpr 0.01 --out "$root/config/moeseg.toml"
"$root/tools/dev/embed-config.sh"
echo "now set the same thresholds and temperature as the defaults in Sources/Daemon/DaemonConfig.swift (Model.temperature, OOD.thresholds, ConfigReader.defaultThresholds); ConfigTests checks they agree"
