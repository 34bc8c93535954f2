#!/usr/bin/env bash
# bench/national.sh: the national-scale figures of issues 4 and 5, with the
# same rebuild and report in PostgreSQL in the same run.
#
#   bench/national.sh [--events N] [--seed S] [--data DIR] [--year 2024] [--no-pg]
#
# Generates a national history of N events (default 10,000,000) with
# national_gen into BUILD_DIR/national-N-sS (kept, reused when it exists), or
# uses the ledger in --data DIR; then national_bench (rebuild of every
# projection, a year's report, one product's status, as-of status, known-at
# report, verify-bundle) and national_pg (the same events loaded into a private
# PostgreSQL 15, the rebuild and report as SQL), and prints the figures, the
# ratios and the goals met or not.
#
# Figure runs must not overlap other benchmarks on a shared machine: run it as
#   flock /tmp/ocop-bench.lock bench/national.sh ...
#
# Environment: BUILD_DIR (default <repo>/build), PG_BIN. Scratch space
# (PostgreSQL's data directory) is a fresh temporary directory under BUILD_DIR,
# removed on exit; raw output is kept in BUILD_DIR/bench-results/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
# shellcheck source=bench/private_pg.sh
source "$(dirname "$0")/private_pg.sh"  # PG_BIN, start_private_pg, stop_private_pg
STEP_TIMEOUT=${STEP_TIMEOUT:-3600}

events=10000000 seed=1 data="" year=2024 use_pg=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) events=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --year) year=$2; shift 2 ;;
    --no-pg) use_pg=0; shift ;;
    --table) table_only=$2; shift 2 ;;
    *) echo "usage: bench/national.sh [--events N] [--seed S] [--data DIR] [--year Y] [--no-pg]" >&2; exit 2 ;;
  esac
done

# table FILE: figures, ratios to PostgreSQL and the goals of issues 4 and 5.
table() {
  awk '
    $1 ~ /^(ocop|postgres)$/ {
      for (i = 3; i <= NF; ++i) { split($i, kv, "="); v[$1, $2, kv[1]] = kv[2] }
    }
    function show(what, unit, o, p, better_low) {
      r = "-"
      if (o != "" && p != "" && o > 0 && p > 0) r = sprintf("%.2fx", better_low ? p / o : o / p)
      printf "%-34s %14s %14s %10s\n", what " (" unit ")", o == "" ? "-" : o, p == "" ? "-" : p, r
    }
    function goal(what, ok, figure) {
      printf "goal: %-48s %-12s %s\n", what, figure == "" ? "not measured" : (ok ? "met" : "NOT met"), figure
    }
    END {
      printf "%-34s %14s %14s %10s\n", "figure", "ocop", "postgres", "ocop adv."
      show("rebuild", "events/s", v["ocop", "rebuild", "events_per_s"], v["postgres", "rebuild", "events_per_s"], 0)
      show("rebuild", "s", v["ocop", "rebuild", "seconds"], v["postgres", "rebuild", "seconds"], 1)
      show("year report p50", "ms", v["ocop", "report", "p50_ms"], v["postgres", "report", "p50_ms"], 1)
      show("status p50", "us", v["ocop", "status", "p50_us"], v["postgres", "status", "p50_us"], 1)
      show("status_as_of p50", "us", v["ocop", "status_as_of", "p50_us"], "", 1)
      show("report_known_at p50", "ms", v["ocop", "report_known_at", "p50_ms"], "", 1)
      show("verify_bundle p50", "ms", v["ocop", "verify_bundle", "p50_ms"], "", 1)
      printf "\n"
      ro = v["ocop", "report", "recognised"]; rp = v["postgres", "report", "recognised"]
      ao = v["ocop", "report", "active_at_end"]; ap = v["postgres", "report", "active_at_end"]
      if (rp != "") printf "report check: recognised %s vs %s, active at end %s vs %s: %s\n\n", ro, rp, ao, ap,
                           (ro == rp && ao == ap) ? "same" : "DIFFERENT"
      fc = v["postgres", "check", "figures"]; fm = v["postgres", "check", "mismatches"]
      if (fc != "") printf "report check, every figure of every section: %s compared, %s different\n\n", fc, fm
      e = v["ocop", "rebuild", "events_per_s"]; goal("rebuild >= 1000000 events/s (2 cores)", e >= 1000000, e)
      s = v["ocop", "rebuild", "seconds"]; n = v["ocop", "rebuild", "events"]
      goal("10M events rebuilt in < 10 s", n >= 10000000 && s < 10, s == "" ? "" : s " s for " n)
      m = v["ocop", "rebuild", "peak_rss_mb"]; goal("peak memory < 1 GB", m < 1024, m == "" ? "" : m " MB")
      r = v["ocop", "report", "p50_ms"]; goal("year national report < 100 ms", r < 100, r == "" ? "" : r " ms")
      goal("the same with issue 15 sections < 150 ms", r < 150, r == "" ? "" : r " ms")
      rp = v["postgres", "report", "p50_ms"]
      goal("the report >= 4x PostgreSQL (same figures)", r > 0 && rp / r >= 4 && fm == "0",
           (r == "" || rp == "") ? "" : sprintf("%.2fx, %s mismatches", rp / r, fm))
      u = v["ocop", "status", "p50_us"]; goal("one product status < 50 us in-process", u < 50, u == "" ? "" : u " us")
      a = v["ocop", "status_as_of", "p50_us"]; goal("as-of status < 1 ms", a < 1000, a == "" ? "" : a " us")
      k = v["ocop", "report_known_at", "p50_ms"]; goal("year report known-at a past point < 1 s", k < 1000, k == "" ? "" : k " ms")
      b = v["ocop", "verify_bundle", "p50_ms"]; goal("verify-bundle of 100 events < 10 ms", b < 10, b == "" ? "" : b " ms")
    }' "$1"
}

if [[ -n ${table_only:-} ]]; then
  table "$table_only"
  exit 0
fi

# --- build (Release) -----------------------------------------------------------
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt")
[[ "$build_type" == "Release" ]] || echo "warning: $BUILD_DIR is a '$build_type' build, not Release" >&2
cmake --build "$BUILD_DIR" -j2 --target national_gen national_bench >/dev/null
if [[ $use_pg == 1 ]]; then
  cmake --build "$BUILD_DIR" -j2 --target national_pg >/dev/null 2>&1 || echo "# national_pg: not built (no libpq)" >&2
fi
BIN=$BUILD_DIR/bin

mkdir -p "$BUILD_DIR/bench-results"
RESULTS=$BUILD_DIR/bench-results/national-$(date -u +%Y%m%dT%H%M%SZ).txt
WORK=$(mktemp -d -p "$BUILD_DIR" national-run.XXXXXX)
cleanup() {
  stop_private_pg
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

{
  echo "# date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "# machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
       "$(awk '/MemTotal/ {printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo), kernel $(uname -r)"
  echo "# commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
       "$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo '(with uncommitted changes)')"
  echo "# build: $BUILD_DIR ($build_type)"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$RESULTS"

run() {  # run NAME CMD...
  echo "# --- $1 (load average $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$RESULTS"
  shift
  timeout "$STEP_TIMEOUT" "$@" 2> >(grep -v '^# rebuild\|^# postgres load' >&2) | tee -a "$RESULTS"
}

# --- the ledger ----------------------------------------------------------------
if [[ -z $data ]]; then
  data=$BUILD_DIR/national-$events-s$seed
  if [[ ! -f $data/national.json ]]; then
    rm -rf "$data"
    run generate "$BIN/national_gen" --dir "$data" --events "$events" --seed "$seed"
  fi
fi
echo "# data: $data ($(du -sh "$data" | cut -f1)); $(cat "$data/national.json" | head -c 300)" | tee -a "$RESULTS"

run ocop "$BIN/national_bench" --dir "$data" --year "$year" --report-json "$WORK/ocop-report.json"

# --- a private PostgreSQL 15 (as bench/run.sh) ------------------------------------
if [[ $use_pg == 1 && -x "$BIN/national_pg" && -x "$PG_BIN/initdb" ]]; then
  # As bench/run.sh, plus what an analytics load is given: parallel workers
  # for the 2 cores, and a WAL large enough that the bulk load does not
  # checkpoint every few seconds.
  start_private_pg "$WORK" max_connections=20 shared_buffers=1GB max_wal_size=8GB \
    max_parallel_workers_per_gather=2 effective_cache_size=8GB || exit 1
  run postgres "$BIN/national_pg" --pg "host=$PGSOCK dbname=postgres user=postgres" --dir "$data" --year "$year" \
    --check "$WORK/ocop-report.json"
else
  echo "# postgres: skipped" | tee -a "$RESULTS"
fi

echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RESULTS"
echo
table "$RESULTS" | tee -a "$RESULTS"
echo "# raw output: $RESULTS"
