#!/usr/bin/env bash
# scripts/make_golden.sh: writes tests/golden/, the data directory that every
# later build must open, verify and answer identically (tests/golden_test.cc).
#
#   scripts/make_golden.sh [--answers-only] [BUILD_DIR]     (default: build)
#
# Run it again only when the answers are meant to change, and say so in the
# commit. When a read's shape changed on purpose (a field added to a report),
# use --answers-only: the data directory written by the older build is kept,
# which is the point of the test, and only the answers are recorded again
# (from a copy, so the kept directory is not touched); review their diff.
# Without it, a new directory is written too: only when the old one must go.
# It loads the demo (`ocop demo`: Cà Mau's ideas and a 2022–2025 cycle) into a
# new directory, stops the server, then records in tests/golden/expected/ the
# answer of each read of tests/golden/reads.txt, and in tests/golden/FORMAT
# the formats it was written in.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
answers_only=0
if [[ ${1:-} == --answers-only ]]; then answers_only=1; shift; fi
BUILD=${1:-$ROOT/build}
OCOP=$BUILD/bin/ocop
GOLDEN=$ROOT/tests/golden
[[ -x $OCOP ]] || { echo "make_golden: no $OCOP; build first" >&2; exit 2; }

work=$(mktemp -d)
server=""
cleanup() { [[ -n $server ]] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

if [[ $answers_only == 1 ]]; then
  cp -a "$GOLDEN/data" "$work/data"
  chmod 600 "$work/data/signing-key.pem"  # git keeps no modes
  read -r _ size < <(grep '^size ' "$GOLDEN/FORMAT")
  read -r _ product < <(grep '^product ' "$GOLDEN/FORMAT")
  data=$work/data
else
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$OCOP" --data "$work/data" --origin golden.ocop.test/ledger demo --listen "127.0.0.1:$port" \
  >/dev/null 2>"$work/demo.log" &
server=$!
for _ in $(seq 600); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
  sleep 0.1
done
kill "$server"; wait "$server" || true; server=""

data=$work/data
size=$("$OCOP" --data "$data" tree-head | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
product=$("$OCOP" --data "$data" deadlines --as-of 2025-06-30 --within-days 365 |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"][0]["product"])')

rm -rf "$GOLDEN/data"
# What a process leaves behind (locks, logs, the readers' copy) is not data.
cp -a "$data" "$GOLDEN/data"
rm -rf "$GOLDEN/data/projections-reader" "$GOLDEN/data/tokens"
find "$GOLDEN/data" \( -name LOCK -o -name 'LOG*' -o -name '*.lock' \) -delete
{
  echo "size $size"
  echo "product $product"
  echo "written_by $(git -C "$ROOT" rev-parse --short HEAD)"
} >"$GOLDEN/FORMAT"
fi
rm -rf "$GOLDEN/expected"
mkdir -p "$GOLDEN/expected"
while read -r name args; do
  [[ -z $name || $name == \#* ]] && continue
  args=${args//@SIZE@/$size}
  args=${args//@PRODUCT@/$product}
  # shellcheck disable=SC2086
  "$OCOP" --data "$data" $args >"$GOLDEN/expected/$name.out" 2>"$work/read.log" ||
    { echo "make_golden: '$args' failed:" >&2; cat "$work/read.log" >&2; exit 1; }
done <"$GOLDEN/reads.txt"
echo "make_golden: $size events, product $product, $(du -sh "$GOLDEN/data" | cut -f1) in $GOLDEN" >&2
