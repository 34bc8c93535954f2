#!/usr/bin/env bash
# One fuzzer as a test: runs FUZZER for SECONDS on its corpus (read-only: new
# inputs go to a scratch directory), fails on any crash, leak or timeout, and
# leaves the input that did it in the scratch directory's artifacts.
# Usage: scripts/fuzz_test.sh FUZZER CORPUS SECONDS
set -euo pipefail
fuzzer=$1 corpus=$2 seconds=$3
[ -x "$fuzzer" ] || { echo "no fuzzer at $fuzzer; build first" >&2; exit 1; }
scratch=$(mktemp -d /tmp/ocop-fuzz.XXXXXX)
trap 'rm -rf "$scratch/new"' EXIT
mkdir -p "$scratch/new" "$scratch/artifacts"
set +e
"$fuzzer" "$scratch/new" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=20 \
  -rss_limit_mb=2048 -artifact_prefix="$scratch/artifacts/" -print_final_stats=1 > "$scratch/log" 2>&1
code=$?
set -e
tail -n 30 "$scratch/log"
if [ $code -ne 0 ]; then
  echo "fuzz_test: $fuzzer failed (exit $code); the input is in $scratch/artifacts" >&2
  exit 1
fi
rm -rf "$scratch"
