#!/usr/bin/env bash
# bench/run.sh: the ledger against PostgreSQL and SQLite, same workloads, same
# run, same disk; prints each figure and the ratios ocop / peer.
#
#   bench/run.sh                    the comparison (a few minutes)
#   bench/run.sh --events 10000000  the memory run: the ledger alone appends,
#                                   scans and verifies that many events and
#                                   reports its peak resident set
#
# Any other arguments go to all three programs unchanged (see bench/harness.h),
# e.g. `bench/run.sh --seconds 2 --batches 200` for a quick look.
#
# Environment: BUILD_DIR (default <repo>/build); NO_BUILD=1 skips the build step. The data directories live in
# a fresh temporary directory under BUILD_DIR, on the disk under test (not a
# tmpfs: durable appends must reach a real disk), removed on exit. Raw output
# is kept in BUILD_DIR/bench-results/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
# shellcheck source=bench/private_pg.sh
source "$ROOT/bench/private_pg.sh"  # PG_BIN, start_private_pg, stop_private_pg
# Each program gets at most this long; a wedged server must not hang the run.
STEP_TIMEOUT=${STEP_TIMEOUT:-1200}

memory_run=0
for a in "$@"; do
  case "$a" in --events|--events=*) memory_run=1 ;; esac
done

# table FILE: the figures of a results file, ocop's ratio to each peer, and
# the issue's goals judged on them.
table() {
  awk '
    $1 == "ocop" && ($2 == "sync_floor" || $2 == "sync_growing") {
      for (i = 3; i <= NF; ++i) {
        split($i, kv, "=")
        if (kv[1] == "p50_us") { if ($2 == "sync_floor") floor_p50 = kv[2]; else growing_p50 = kv[2] }
      }
      next
    }
    $1 ~ /^(ocop|postgres|sqlite)$/ && $2 != "rss" {
      key = $2
      for (i = 3; i <= NF; ++i) {
        split($i, kv, "=")
        if (kv[1] == "writers") key = key " x" kv[2]
        if (kv[1] == "events_per_s") rate[key, $1] = kv[2]
        if (kv[1] == "p50_us") lat[key, $1] = kv[2]
        if (kv[1] == "p99_us") lat[key, $1] = lat[key, $1] "/" kv[2]
      }
      if (!(key in seen)) { seen[key] = 1; order[++n] = key }
    }
    function goal(v, want, what) {
      if (v == "") printf "goal: %s not measured\n", what
      else printf "goal: %s %d  %s\n", what, v, (v >= want ? "met" : "NOT met")
    }
    function vs_best(k, want, what,   pg, sq, best, who) {
      pg = rate[k, "postgres"]; sq = rate[k, "sqlite"]
      best = pg; who = "postgres"
      if (sq != "" && (best == "" || sq > best)) { best = sq; who = "sqlite" }
      if (rate[k, "ocop"] == "" || best == "") printf "goal: %s not measured\n", what
      else printf "goal: %s %.2fx (%s)  %s\n", what, rate[k, "ocop"] / best, who,
                  (rate[k, "ocop"] / best >= want ? "met" : "NOT met")
    }
    function dash(v) { return v == "" ? "-" : v }
    function fmt(v) { return v == "" ? "-" : sprintf("%d", v) }
    function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.2fx", a / b) }
    END {
      if (floor_p50 != "") printf "sync floor (fdatasync of an overwritten file): p50 %d us\n", floor_p50
      if (growing_p50 != "") printf "fdatasync of a growing file (as a RocksDB WAL): p50 %d us\n", growing_p50
      if (floor_p50 != "") print ""
      printf "%-18s %12s %12s %12s %10s %10s   %s\n", "events/s", "ocop", "postgres", "sqlite",
             "ocop/pg", "ocop/sqlite", "p50/p99 us (ocop, pg, sqlite)"
      for (i = 1; i <= n; ++i) {
        k = order[i]
        l = ""
        if ((k, "ocop") in lat) l = dash(lat[k, "ocop"]) ", " dash(lat[k, "postgres"]) ", " dash(lat[k, "sqlite"])
        printf "%-18s %12s %12s %12s %10s %10s   %s\n", k, fmt(rate[k, "ocop"]),
               fmt(rate[k, "postgres"]), fmt(rate[k, "sqlite"]),
               ratio(rate[k, "ocop"], rate[k, "postgres"]), ratio(rate[k, "ocop"], rate[k, "sqlite"]), l
      }
      # The goals of the issue, judged on this run.
      print ""
      g = rate["append_1 x32", "ocop"]; p = rate["append_1 x32", "postgres"]
      if (g == "" || p == "") s = "not measured"
      else s = sprintf("%.2fx  %s", g / p, g / p >= 6 ? "met" : "NOT met")
      printf "goal: 32 writers >= 6x postgres      %s\n", s
      for (k in seen) if (k ~ /^batch_/) b = k
      goal(rate[b, "ocop"], 400000, "batches >= 400000 events/s    ")
      goal(rate["scan", "ocop"], 1500000, "scan+decode >= 1500000 ev/s   ")
      goal(rate["verify", "ocop"], 1000000, "verify >= 1000000 events/s    ")
      # Issue 18: against the better peer of this run, and the sync floor.
      print ""
      vs_best(b, 1.5, "batches >= 1.5x the better peer  ")
      vs_best("append_1 x1", 1.0, "1 writer >= 1.0x the better peer ")
      vs_best("append_1 x8", 2.0, "8 writers >= 2x the better peer  ")
      vs_best("append_1 x32", 2.0, "32 writers >= 2x the better peer ")
      split(lat["append_1 x1", "ocop"], one, "/")
      f = floor_p50
      if (one[1] == "" || f == "") printf "goal: 1-writer p50 <= 1.3x sync floor   not measured\n"
      else printf "goal: 1-writer p50 <= 1.3x sync floor   %d us / %d us = %.2fx  %s\n", one[1], f,
                  one[1] / f, (one[1] / f <= 1.3 ? "met" : "NOT met")
    }' "$1"
}

# `bench/run.sh --table FILE` reprints the table of an earlier run.
if [[ ${1:-} == --table ]]; then
  table "$2"
  exit 0
fi

# --- build (Release) -----------------------------------------------------------
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
if [[ "$build_type" != "Release" ]]; then
  echo "warning: $BUILD_DIR is a '$build_type' build, not Release; figures may be low" >&2
fi
# NO_BUILD=1 uses the binaries as they are (while another build runs in the
# same directory, which two ninjas must not share).
if [[ -z ${NO_BUILD:-} ]]; then
  cmake --build "$BUILD_DIR" -j2 --target ledger_bench >/dev/null
fi
if [[ -z ${NO_BUILD:-} && $memory_run == 0 ]]; then
  # A peer that CMake could not configure (no libpq, no SQLite) is skipped.
  for t in peer_postgres peer_sqlite; do
    cmake --build "$BUILD_DIR" -j2 --target "$t" >/dev/null 2>&1 || echo "# $t: not built; skipped" >&2
  done
fi
BIN=$BUILD_DIR/bin

# --- scratch space on the real disk --------------------------------------------
WORK=$(mktemp -d -p "$BUILD_DIR" bench-run.XXXXXX)
cleanup() {
  stop_private_pg
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$BUILD_DIR/bench-results"
RESULTS=$BUILD_DIR/bench-results/$(date -u +%Y%m%dT%H%M%SZ).txt

{
  echo "# date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "# machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
       "$(awk '/MemTotal/ {printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo), kernel $(uname -r)"
  echo "# data dir: $WORK on $(df -hT "$WORK" | awk 'NR == 2 {print $1 " (" $2 ", " $3 ")"}')"
  echo "# commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
       "$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo '(with uncommitted changes)')"
  echo "# build: $BUILD_DIR ($build_type); args: ${*:-(defaults)}"
  # The machine may be shared: other work running now skews every figure.
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$RESULTS"

run() {  # run NAME CMD...: one program, bounded in time, output kept
  echo "# --- $1 (load average $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$RESULTS"
  shift
  timeout "$STEP_TIMEOUT" "$@" 2>&1 | tee -a "$RESULTS"
}

if [[ $memory_run == 1 ]]; then
  run ocop "$BIN/ledger_bench" --dir "$WORK/ocop" "$@"
  echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RESULTS"
  exit 0
fi

# --- a private PostgreSQL 15 (bench/private_pg.sh) ----------------------------
# shared_buffers and max_wal_size are raised from the defaults of a tiny
# machine to what any production event store would set, so the peer is not
# handicapped; durability keeps its defaults.
have_pg=0
if [[ -x "$BIN/peer_postgres" && -x "$PG_BIN/initdb" ]]; then
  start_private_pg "$WORK" max_connections=100 shared_buffers=256MB max_wal_size=4GB || exit 1
  have_pg=1
else
  echo "# postgres: skipped (no peer_postgres built or no $PG_BIN/initdb)" | tee -a "$RESULTS"
fi

run ocop "$BIN/ledger_bench" --dir "$WORK/ocop" "$@"
if [[ $have_pg == 1 ]]; then
  run postgres "$BIN/peer_postgres" --pg "host=$PGSOCK dbname=postgres user=postgres" "$@"
fi
if [[ -x "$BIN/peer_sqlite" ]]; then
  mkdir -p "$WORK/sqlite"
  run sqlite "$BIN/peer_sqlite" --db "$WORK/sqlite/events.db" "$@"
else
  echo "# sqlite: skipped (no peer_sqlite built)" | tee -a "$RESULTS"
fi

# --- the table ----------------------------------------------------------------
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RESULTS"
echo
table "$RESULTS" | tee -a "$RESULTS"
echo "# raw output: $RESULTS"
