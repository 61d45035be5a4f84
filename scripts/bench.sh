#!/usr/bin/env bash
# `make bench`: every benchmark in full mode, each printing its measured figures beside a
# baseline measured in the same run; the table is collected into bench/results/summary.md
# and summary.json. Load is generated on this machine against 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p bench/results
export VOCSITE_BENCH_VIEWS=1
# The throwaway services (PostgreSQL without fsync in /tmp, Redis without persistence): the
# figures measure vocsite, not the disk's flush latency. Each benchmark prints which it ran on.
export VOCSITE_SERVICES=throwaway
# All load comes from 127.0.0.1: the limiters still run (their counting and its sync with Redis
# are part of what is measured), only their thresholds are raised so the load is not refused.
export WIDGET_RATE_LIMIT_PER_IP=100000000 WIDGET_RATE_LIMIT_PER_VISITOR=100000000
scripts/fullmode.sh up
set -a; eval "$(scripts/fullmode.sh env)"; set +a
BASE_URL="http://127.0.0.1:${VOCSITE_PORT:-8000}"

# The table starts with the durability settings of the services measured (bench/common.py).
RAN_ON=$(cd bench && "../$BIN/python" -c "from common import setup_django; setup_django()" | sed -n 's/^ran on: //p')
{
  echo "Ran on: $RAN_ON"
  echo ""
  echo "| benchmark | measured | baseline (same run) | target | verdict |"
  echo "|---|---|---|---|---|"
} > bench/results/summary.md
# `make bench BENCH="decide ingest"` runs only those (the table then holds only their rows).
# BENCH_ARGS go to each script run, e.g. `make bench BENCH=growth BENCH_ARGS="--large 1000000"`.
ALL="widget decide ingest rollups dashboard load growth"
for name in ${BENCH:-$ALL}; do
  script="bench/bench_$name.py"
  [ -f "$script" ] || { echo "| $(basename "$script" .py) | not written yet | | | |" >> bench/results/summary.md; continue; }
  echo "== $script"
  "$BIN/python" "$script" --base-url "$BASE_URL" ${BENCH_ARGS:-} 2>&1 | tee -a bench/results/raw.log | grep '^|' >> bench/results/summary.md || true
done
"$BIN/python" - <<'PY'
import json, pathlib
results = pathlib.Path("bench/results")
summary = {p.stem: json.loads(p.read_text()) for p in sorted(results.glob("*.json")) if p.stem != "summary"}
(results / "summary.json").write_text(json.dumps(summary, indent=2))
PY
cat bench/results/summary.md
