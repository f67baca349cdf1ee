#!/usr/bin/env bash
# make test-flink: starts a loopback Flink cluster (scripts/flink-cluster.sh),
# runs e2e's TestFlinkTarget against it (the same jobs on weir and on Flink),
# records the figures in testdata/flink-target/results.txt with the run's
# total time, and stops the cluster whatever happened.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
FLINK_PYTHON="${FLINK_PYTHON:-$ROOT/bench/.venv-pyflink/bin/python}"
RESULTS="$ROOT/testdata/flink-target/results.txt"
export FLINK_PYTHON
export WEIR_PYTHON="${WEIR_PYTHON:-$ROOT/.venv/bin/python}"
export FLINK_CLUSTER_DIR="${FLINK_CLUSTER_DIR:-/tmp/weir-flink-cluster-$$}"

start=$(date +%s)
trap 'scripts/flink-cluster.sh stop || true; rm -rf "$FLINK_CLUSTER_DIR"' EXIT
target="$(scripts/flink-cluster.sh start)"
echo "test-flink: cluster up at $target after $(( $(date +%s) - start )) s" >&2
tmp="$(mktemp)"
rc=0
WEIR_FLINK_TARGET="$target" WEIR_FLINK_CLIENT="$FLINK_PYTHON" WEIR_FLINK_RESULTS="$tmp" \
  go test -count=1 -timeout 30m -run '^TestFlinkTarget$' -v ./e2e || rc=$?
scripts/flink-cluster.sh stop
trap 'rm -rf "$FLINK_CLUSTER_DIR"' EXIT
total=$(( $(date +%s) - start ))
if [ "$rc" = 0 ] && [ -s "$tmp" ]; then
  mkdir -p "$(dirname "$RESULTS")"
  { cat "$tmp"; echo "# make test-flink: ${total} s in all (cluster start and stop included)"; } >"$RESULTS"
  echo "test-flink: ${total} s; results in ${RESULTS#$ROOT/}" >&2
else
  echo "test-flink: failed after ${total} s" >&2
fi
rm -f "$tmp"
exit "$rc"
