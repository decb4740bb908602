#!/usr/bin/env bash
# Run every benchmark one after the other and keep each table in benchmarks/results/DATE/.
# Run it on an otherwise idle machine: other jobs are the main source of variance.
#   bash benchmarks/run_all.sh                 # 2 threads, a 15-minute time-to-quality run
#   THREADS=1 TTQ_MINUTES=60 TTQ_EPOCHS=1000 bash benchmarks/run_all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
THREADS=${THREADS:-2}
TTQ_MINUTES=${TTQ_MINUTES:-15}
TTQ_EPOCHS=${TTQ_EPOCHS:-250}
TTQ_SCHEDULE=${TTQ_SCHEDULE:-cosine}
OUT=benchmarks/results/$(date +%Y-%m-%d)
mkdir -p "$OUT"
run() {  # run NAME SCRIPT ARGS...: the table to OUT/NAME.md, progress to the terminal
    local name=$1; shift
    echo "== $name: $*" >&2
    "$PY" "$@" > "$OUT/$name.md.part" && mv "$OUT/$name.md.part" "$OUT/$name.md"
}
run "time_to_quality-${TTQ_MINUTES}min-${THREADS}threads" benchmarks/time_to_quality.py --threads "$THREADS" \
    --minutes "$TTQ_MINUTES" --epochs "$TTQ_EPOCHS" --lr-schedule "$TTQ_SCHEDULE" --out "$OUT/time_to_quality.json"
run "throughput-${THREADS}threads" benchmarks/throughput.py --threads "$THREADS" --repeats 5
run "pca-${THREADS}threads" benchmarks/pca.py --threads "$THREADS" --repeats 5
run "nll_eval-${THREADS}threads" benchmarks/nll_eval.py --threads "$THREADS" --repeats 3
run "scaling-${THREADS}threads" benchmarks/scaling.py --threads "$THREADS" --repeats 3
run "distributed" benchmarks/distributed.py --repeats 3
run "explorer-1thread" benchmarks/explorer.py --threads 1 --requests 400
run "startup" benchmarks/startup.py --repeats 7
run "sklearn_checks" benchmarks/sklearn_checks.py --threads "$THREADS"
echo "tables in $OUT" >&2
