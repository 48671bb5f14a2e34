#!/usr/bin/env bash
# Soak benchmark of the daemon (issue 6, acceptance 4 and 2): `moeseg run` on a looping replay
# at full speed (every frame processed, none dropped) with all maps, for FRAMES frames. Samples
# CPU time and resident memory of the process every second from /proc/PID/{stat,status}, takes
# the latency percentiles from the daemon's own whole-run histogram (capture → publish), and
# checks that RSS does not grow after warm-up. With STALL=1 a subscriber connects to every
# topic and never reads (the stalled planner of acceptance 2).
#
#   tools/bench/daemon_soak.sh [MODEL_DIR]       (default: models/demo/moe-simple)
#   FRAMES=10000 SIZE=512x256 STALL=0|1 MOESEG=.build/release/moeseg OUT=out/soak
# Prints one JSON line; exit 1 if RSS grew by more than GROWTH_MB (default 8) after warm-up.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
model="${1:-models/demo/moe-simple}"
frames="${FRAMES:-10000}"
size="${SIZE:-512x256}"
stall="${STALL:-0}"
growth_mb="${GROWTH_MB:-8}"
out="${OUT:-out/soak}"
python="${MOESEG_PYTHON:-$root/.venv/bin/python}"
if [ -z "${MOESEG:-}" ]; then
  swift build -c release --product moeseg 2>&1 | (grep -vE '^\[[0-9]+/[0-9]+\] ' || true) >&2
  MOESEG=.build/release/moeseg
fi
mkdir -p "$out"
recording="$out/soak-$size.mcap"
[ -f "$recording" ] || "$MOESEG" synth --domain urban --frames 300 --seed 11 --size "$size" --out "$recording" >/dev/null
endpoint="ipc://$root/$out/soak.sock"
config="$out/soak.toml"
# All maps the model can produce, routing samples on, a deadline the demo model meets.
cat > "$config" <<TOML
[source]
replay_speed = 0.0
replay_at_end = "loop"
[model]
routing_samples = 4
maps = ["pe_stacked", "mi_stacked", "pe_weighted", "mi_weighted", "ev", "gate_entropy", "routing_pe", "routing_mi"]
essential_maps = ["mi_stacked"]
[budget]
deadline_ms = ${DEADLINE_MS:-1000.0}
[log]
level = "debug"
TOML

stall_pid=""
if [ "$stall" = 1 ]; then
  # Connected to every topic, never reading: its queue fills, the publisher must drop for it.
  "$python" -c "
import sys, time, zmq
s = zmq.Context.instance().socket(zmq.SUB)
s.setsockopt(zmq.RCVHWM, 1)
s.setsockopt_string(zmq.SUBSCRIBE, '')
s.connect(sys.argv[1])
time.sleep(3600)" "$endpoint" &
  stall_pid=$!
fi

log="$out/soak-$stall.log"
"$MOESEG" run --config "$config" --source "replay:$recording" --model "$model" --endpoint "$endpoint" \
  --stream soak --max-frames "$frames" --max-rate 2>"$log" &
pid=$!
ticks=$(getconf CLK_TCK)
samples="$out/soak-$stall.samples"
: > "$samples"
start=$(date +%s.%N)
while kill -0 "$pid" 2>/dev/null; do
  if [ -r "/proc/$pid/stat" ]; then
    cpu=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo "")
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo "")
    now=$(date +%s.%N)
    [ -n "$cpu" ] && [ -n "$rss" ] && echo "$now $cpu $rss" >> "$samples"
  fi
  sleep 1
done
wait "$pid" || { echo "moeseg run failed:" >&2; tail -5 "$log" >&2; exit 1; }
[ -n "$stall_pid" ] && kill "$stall_pid" 2>/dev/null || true

"$python" - "$samples" "$log" "$ticks" "$growth_mb" "$frames" "$size" "$stall" "$model" <<'PY'
import json, re, sys
samples_path, log_path, ticks, growth_mb, frames, size, stall, model = sys.argv[1:]
rows = [tuple(map(float, l.split())) for l in open(samples_path) if l.strip()]
log = open(log_path).read()
run = re.search(r"run: (\d+) frames in ([\d.]+) s \(([\d.]+) fps\), latency p50/p90/p99/max-bucket ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms, deadline misses (\d+), dropped (\d+), skipped (\d+), errors (\d+)", log)
if not run or len(rows) < 3:
    print(json.dumps({"error": "no run summary or too few samples", "log_tail": log[-800:]})); sys.exit(1)
n, secs, fps, p50, p90, p99, pmax, misses, dropped, skipped, errors = run.groups()
t0, c0, _ = rows[0]; t1, c1, _ = rows[-1]
cpu_pct = 100.0 * (c1 - c0) / float(ticks) / (t1 - t0)
rss = [r[2] / 1024 for r in rows]
warm = max(1, len(rss) // 5)            # first 20 % of the run is warm-up
after = rss[warm:]
growth = max(after) - after[0]
statuses = re.findall(r"status: fps ([\d.]+) latency p50/p90/p99 ([\d.]+)/([\d.]+)/([\d.]+) ms", log)
result = {
    "model": model, "size": size, "frames": int(n), "stalled_subscriber": stall == "1",
    "seconds": float(secs), "fps": float(fps),
    "latency_ms": {"p50": float(p50), "p90": float(p90), "p99": float(p99), "max_bucket": float(pmax)},
    "deadline_misses": int(misses), "dropped": int(dropped), "skipped": int(skipped), "errors": int(errors),
    "cpu_percent": round(cpu_pct, 1), "cores_used": round(cpu_pct / 100, 2),
    "rss_mb": {"first": round(rss[0], 1), "after_warmup": round(after[0], 1), "max": round(max(rss), 1),
               "last": round(rss[-1], 1), "growth_after_warmup": round(growth, 2)},
    "rss_samples_mb": [round(x, 1) for x in rss[:: max(1, len(rss) // 20)]],
    "status_messages": len(statuses),
    "ok": int(n) == int(frames) and growth <= float(growth_mb) and int(errors) == 0,
}
print(json.dumps(result))
sys.exit(0 if result["ok"] else 1)
PY
