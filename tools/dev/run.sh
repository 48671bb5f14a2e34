#!/usr/bin/env bash
# The README's main-job command: builds moeseg (release) and runs the daemon on its embedded
# default configuration (the demo mixture on a synthetic urban drive, publishing on an ipc
# endpoint) for a few seconds, while the Python client (tools/client) subscribes and shows
# what it decodes; then stops the daemon with SIGTERM as systemd would.
#   RUN_SECONDS=8  MOESEG_MODEL_DIR=dir (another model)  SOURCE=replay:FILE.mcap (another source)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
"$root/tools/dev/install-deps.sh"
cd "$root"
swift build -c release --product moeseg 2>&1 | (grep -vE '^\[[0-9]+/[0-9]+\] ' || true)
moeseg=.build/release/moeseg
mkdir -p out
seconds="${RUN_SECONDS:-8}"
endpoint="ipc://$root/out/front.sock"
args=(run --endpoint "$endpoint" --stream front --log-level debug)
[ -n "${SOURCE:-}" ] && args+=(--source "$SOURCE")
if [ -z "${MOESEG_MODEL_DIR:-}" ] && [ ! -f models/demo/moe-simple-int8/moe.toml ]; then
  # Until the demo model is committed: a small randomly initialised 2-expert mixture, so the
  # pipeline still runs end to end (its segmentation means nothing).
  echo "run.sh: models/demo/moe-simple-int8 is not here yet; using a random 2-expert test mixture" >&2
  .venv/bin/python tools/reference/random_mixtures.py out/random-models >/dev/null
  export MOESEG_MODEL_DIR="$root/out/random-models/moe2-simple"
fi
echo "\$ moeseg ${args[*]}"
"$moeseg" "${args[@]}" 2>out/daemon.log &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
sleep 1.5
echo "\$ tools/client/check_stream.py --endpoint $endpoint   (what a planner receives)"
.venv/bin/python tools/client/check_stream.py --endpoint "$endpoint" --count 100000 --timeout "$((seconds - 2))" \
  --expect-topics seg,unc,ood,status,meta --meta-within-ms 100 > out/stream.json || true
.venv/bin/python - out/stream.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"  {r['messages']} messages: " + ", ".join(f"{k} {v}" for k, v in sorted(r["topics"].items())))
if r["seg"]:
    print(f"  segmentation {r['seg']['shape']} classes {r['seg']['classes']}; meta {r['meta_ms']:.0f} ms after connecting")
for name, m in sorted(r["maps"].items()):
    print(f"  map {name:13s} {m['shape']} {m['encoding']:24s} mean {m['mean']:.3f} max {m['max']:.3f}")
errors = [e for e in r["errors"] if not e.startswith("received")]  # it listens for a fixed time
print("  errors: " + ("none" if not errors else "; ".join(errors)))
PY
kill -TERM $pid
wait $pid && status=0 || status=$?
trap - EXIT
echo "daemon log (out/daemon.log), status lines and shutdown:"
grep -E "moeseg run|status:|first frame|SIGTERM|run:|stopped" out/daemon.log | sed 's/^/  /' | tail -n 12
echo "daemon exit status: $status"
exit $status
