#!/usr/bin/env bash
# bench/http_load.sh: `ocop serve` under HTTP load, against PostgreSQL in the
# same run (issue 6, item 7).
#
#   bench/http_load.sh              both parts: writes vs PostgreSQL, reads under writes
#   bench/http_load.sh --post-only  only the first part
#   bench/http_load.sh --get-only   only the second part
#
# 1. Writes: 32 keep-alive connections each POST single commands
#    (RecordInspection / RecordPromotion, each with a fresh idempotency id) to
#    /v1/commands for SECONDS; every request must get a 2xx or the run fails
#    without a figure. Then a private PostgreSQL 15 (unix socket only, default
#    fsync and synchronous_commit: durable commits, as the ledger's) takes 32
#    pgbench clients, each transaction a single-row INSERT into an event table
#    (seq bigserial, stream, version, unique (stream, version), jsonb data),
#    for the same SECONDS. Prints both rates and the ratios against issue 18's goals
#    (posting >= 50% of the floor below, >= 2x PostgreSQL),
#    and the floor: the same server and client doing HTTP alone (GET /healthz
#    from CONNS connections), with the CPU each spends per request.
# 2. Reads under writes: a big ledger (OCOP_BENCH_BIG=DIR, e.g. the national
#    10-million-event data set; copied, never touched; without it a ledger
#    of BIG_EVENTS events is generated here when national_gen is built) is served;
#    GET_CONNS connections GET /v1/products/{id} of random products while
#    POST_CONNS connections keep posting. Prints GET p50/p99/p999 against the
#    2 ms p99 goal.
#
# Environment: BUILD_DIR (default <repo>/build), SECONDS_RUN (10), CONNS (32),
# PRODUCTS (16384, about the country's OCOP products: dealt out to the writers), GET_CONNS (4),
# POST_CONNS (8), OCOP_BENCH_BIG (a data directory to copy for part 2),
# BIG_EVENTS (events to generate when OCOP_BENCH_BIG is unset, 200000),
# BENCH_LOCK (/tmp/ocop-bench.lock: the timed parts run under `flock` on it
# so that they never overlap another benchmark on a shared machine; "none"
# to not lock), NO_BUILD=1 (use BUILD_DIR's binaries as they are), BIN_DIR
# (take ocop and http_load from there instead, e.g. another commit's
# binaries for an A/B; implies NO_BUILD), PERF_OUT (a file: `perf record -g`
# of the server during the timed POST part goes there; PERF_ARGS replaces
# -g, e.g. "--call-graph dwarf,16384 -F 499"). Scratch data lives under
# BUILD_DIR (the real disk: durable appends must reach it, not a tmpfs) and
# is removed on exit; raw output is kept in BUILD_DIR/bench-results/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
# shellcheck source=bench/private_pg.sh
source "$(dirname "$0")/private_pg.sh"  # PG_BIN, start_private_pg, stop_private_pg
SECONDS_RUN=${SECONDS_RUN:-10}
CONNS=${CONNS:-32}
PRODUCTS=${PRODUCTS:-16384}
GET_CONNS=${GET_CONNS:-4}
POST_CONNS=${POST_CONNS:-8}
BIG_EVENTS=${BIG_EVENTS:-200000}
BENCH_LOCK=${BENCH_LOCK:-/tmp/ocop-bench.lock}
STEP_TIMEOUT=$((SECONDS_RUN + 120))

part_post=1
part_get=1
case "${1:-}" in
  --post-only) part_get=0 ;;
  --get-only) part_post=0 ;;
  "") ;;
  *) echo "usage: $0 [--post-only|--get-only]" >&2; exit 2 ;;
esac

# --- build (Release) -----------------------------------------------------------
[[ -n "${BIN_DIR:-}" ]] && NO_BUILD=1
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" && -z "${NO_BUILD:-}" ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)
[[ -n "${BIN_DIR:-}" || "$build_type" == "Release" ]] || echo "warning: $BUILD_DIR is a '$build_type' build; figures may be low" >&2
if [[ -z "${NO_BUILD:-}" ]]; then
  cmake --build "$BUILD_DIR" -j2 --target ocop http_load >/dev/null
  if [[ $part_get == 1 && -z "${OCOP_BENCH_BIG:-}" ]]; then
    cmake --build "$BUILD_DIR" -j2 --target national_gen >/dev/null 2>&1 || true
  fi
fi
BIN=${BIN_DIR:-$BUILD_DIR/bin}
OCOP=$BIN/ocop

# --- scratch space on the real disk --------------------------------------------
WORK=$(mktemp -d -p "$BUILD_DIR" http-load.XXXXXX)
server_pid=
cleanup() {
  if [[ -n "$server_pid" ]]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  stop_private_pg
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Timed parts hold the shared benchmark lock (fd 9), set-up does not.
# Dirty pages left by the set-up (a copied 2 GB ledger) would make the
# first fsyncs of the timed part wait for their writeback: write them first.
lock() { sync; [[ "$BENCH_LOCK" == none ]] || { exec 9>"$BENCH_LOCK"; flock 9; }; }
unlock() { [[ "$BENCH_LOCK" == none ]] || flock -u 9; }

mkdir -p "$BUILD_DIR/bench-results"
RESULTS=$BUILD_DIR/bench-results/http-$(date -u +%Y%m%dT%H%M%SZ).txt
say() { echo "$*" | tee -a "$RESULTS"; }
{
  echo "# date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "# machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
       "$(awk '/MemTotal/ {printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo), kernel $(uname -r)"
  echo "# data dir: $WORK on $(df -hT "$WORK" | awk 'NR == 2 {print $1 " (" $2 ")"}')"
  echo "# commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
       "$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo '(with uncommitted changes)')"
  echo "# build: ${BIN_DIR:-$BUILD_DIR} ($build_type); seconds=$SECONDS_RUN connections=$CONNS products=$PRODUCTS"
} | tee "$RESULTS"

# --- the bench world: a province, a principal, certified products ---------------
# setup DIR: appends (as the local superuser, in one atomic submit) a bench
# province "BENCH" with four districts, producers, a principal bench.client
# holding the inspector and officer roles there, and PRODUCTS products
# certified in January 2024 (valid until 2027); writes their ids to
# $WORK/products and a token for bench.client to $WORK/token.
setup() {
  local dir=$1
  python3 - "$PRODUCTS" >"$WORK/setup.jsonl" <<'PY'
import json, sys
n = int(sys.argv[1])
out = []
e = "2024-01-02"
out.append({"type": "DefineUnit", "effective": e, "unit": "BENCH", "name": "Tỉnh Thử Tải", "level": "province"})
for d in range(4):
    out.append({"type": "DefineUnit", "effective": e, "unit": f"BENCH-D{d}", "name": f"Huyện Thử {d}",
                "level": "district", "parent": "BENCH"})
for s in range(64):
    out.append({"type": "RegisterSubject", "effective": e, "subject": f"BENCH-S{s:03d}",
                "name": f"HTX Thử Tải {s}", "legal_form": ["HTX", "DN", "HKD", "THT"][s % 4],
                "unit": f"BENCH-D{s % 4}", "woman_owned": s % 3 == 0})
for role in ("inspector", "officer"):
    out.append({"type": "GrantRole", "effective": e, "principal": "bench.client", "role": role, "unit": "BENCH"})
for i in range(n):
    out.append({"type": "ImportCertificate", "effective": "2024-01-10", "product": f"BENCH-P{i:05d}",
                "subject": f"BENCH-S{i % 64:03d}", "name": f"Sản phẩm thử {i}", "group": 1 + i % 6,
                "unit": f"BENCH-D{i % 4}", "stars": 3 + i % 3, "certificate": f"BENCH-CN-{i:05d}",
                "decision": {"no": "1/QĐ-UBND-BENCH", "date": "2024-01-10", "issuer": "BENCH"}})
for c in out:
    print(json.dumps(c, ensure_ascii=False))
PY
  # A copy of a ledger set up by an earlier run already has them.
  if ! "$OCOP" --data "$dir" status BENCH-P$(printf %05d $((PRODUCTS - 1))) >/dev/null 2>&1; then
    "$OCOP" --data "$dir" submit --atomic "$WORK/setup.jsonl" >"$WORK/setup.out" \
      || { echo "setup failed:"; grep -v '"ok":true' "$WORK/setup.out" | head; exit 1; }
  fi
  seq -f 'BENCH-P%05g' 0 $((PRODUCTS - 1)) >"$WORK/products"
  rm -f "$WORK/tokens"
  "$OCOP" token add bench.client --tokens "$WORK/tokens" >"$WORK/token"
}

PORT=$((20000 + $$ % 20000))
# serve DIR: starts the server on 127.0.0.1:PORT and waits until it answers.
serve() {
  "$OCOP" --data "$1" serve --listen "127.0.0.1:$PORT" --tokens "$WORK/tokens" 2>"$WORK/serve.log" &
  server_pid=$!
  for _ in $(seq 1200); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$server_pid" 2>/dev/null || { echo "ocop serve died:"; tail "$WORK/serve.log"; exit 1; }
    sleep 0.5
  done
  echo "ocop serve did not answer in 10 minutes"; exit 1
}
stop_server() {
  kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=
}
# The server's group commit, from /metrics: appends per durable write.
commit_stats() {
  curl -sf "http://127.0.0.1:$PORT/metrics" | awk '
    /^ocop_group_commit_calls_count/ {g = $2} /^ocop_group_commit_calls_sum/ {c = $2}
    END { if (g > 0) printf "# server group commit: %d writes carried %d appends (%.1f per write)\n", g, c, c / g }'
}

# cpu_ticks PID...: user+system CPU time of the processes, in clock ticks.
cpu_ticks() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done | awk '{s += $1} END {print s + 0}'; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

post_rate=
pg_rate=

# --- 1. writes: ocop over HTTP ---------------------------------------------------
if [[ $part_post == 1 ]]; then
  say "# --- 1. $CONNS connections POSTing single commands, ${SECONDS_RUN}s"
  setup "$WORK/ocop"
  serve "$WORK/ocop"
  lock
  say "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  perf_pid=
  if [[ -n "${PERF_OUT:-}" ]]; then
    perf record -q ${PERF_ARGS:--g} -p "$server_pid" -o "$PERF_OUT" 2>/dev/null &
    perf_pid=$!
  fi
  before=$(cpu_ticks "$server_pid")
  timeout "$STEP_TIMEOUT" "$BIN/http_load" --port "$PORT" --token-file "$WORK/token" \
    --products-file "$WORK/products" --post "$CONNS" --seconds "$SECONDS_RUN" --warmup 0 >"$WORK/post.out"
  after=$(cpu_ticks "$server_pid")
  if [[ -n "$perf_pid" ]]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
  unlock
  tee -a "$RESULTS" <"$WORK/post.out"
  # The server's CPU per request (the whole run, warm-up included).
  awk -v t=$(( (after - before) * TICK_US )) '{ for (i = 3; i <= NF; ++i) if ($i ~ /^requests=/) { sub(/.*=/, "", $i); n = $i } }
    END { if (n > 0) printf "# ocop serve CPU: %d us per request\n", t / n }' "$WORK/post.out" | tee -a "$RESULTS"
  commit_stats | tee -a "$RESULTS" || true
  # The floor under any command: the same server and client doing nothing but
  # HTTP (and the per-request log line), GET /healthz from as many
  # connections. Both share the two cores, so their CPU per request bounds
  # what any POST can reach.
  say "# --- floor: $CONNS connections GET /healthz (HTTP only), ${SECONDS_RUN}s"
  lock
  before=$(cpu_ticks "$server_pid")
  TIMEFORMAT='%U %S'
  { time timeout "$STEP_TIMEOUT" "$BIN/http_load" --port "$PORT" --token-file "$WORK/token" \
      --products-file "$WORK/products" --get "$CONNS" --get-path /healthz --seconds "$SECONDS_RUN" \
      --warmup 0 >"$WORK/floor.out"; } 2>"$WORK/floor.time"
  after=$(cpu_ticks "$server_pid")
  unlock
  tee -a "$RESULTS" <"$WORK/floor.out"
  awk -v t=$(( (after - before) * TICK_US )) -v c="$(cat "$WORK/floor.time")" '
    { for (i = 3; i <= NF; ++i) if ($i ~ /^requests=/) { sub(/.*=/, "", $i); n = $i } }
    END { if (n > 0) { split(c, u, " "); printf "# floor CPU per request: ocop serve %.1f us, http_load %.1f us\n", t / n, (u[1] + u[2]) * 1e6 / n } }' \
    "$WORK/floor.out" | tee -a "$RESULTS"
  stop_server
  post_rate=$(awk '$2 == "http_post" { for (i = 3; i <= NF; ++i) if ($i ~ /^requests_per_s=/) { sub(/.*=/, "", $i); print $i } }' "$RESULTS" | tail -1)
  floor_rate=$(awk '$2 == "http_get" { for (i = 3; i <= NF; ++i) if ($i ~ /^requests_per_s=/) { sub(/.*=/, "", $i); print $i } }' "$RESULTS" | tail -1)
  # Issue 18's first criterion: posting at half the floor of the same run.
  if [[ -n "$post_rate" && -n "$floor_rate" ]]; then
    say "$(awk -v a="$post_rate" -v b="$floor_rate" -v c="$CONNS" 'BEGIN {
      r = a / b
      printf "goal: %d POST connections >= 50%% of GET /healthz: %.0f / %.0f = %.0f%%  %s", c, a, b, 100 * r, (r >= 0.5 ? "met" : "NOT met")
    }')"
  fi

  # --- PostgreSQL: the same number of clients, single-row insert transactions
  if [[ -x "$PG_BIN/initdb" ]] && command -v pgbench >/dev/null; then
    # As bench/run.sh: defaults for durability (fsync, synchronous_commit,
    # full_page_writes on), memory raised to what a production store sets.
    start_private_pg "$WORK" max_connections=100 shared_buffers=256MB max_wal_size=4GB || exit 1
    psql -q -h "$PGSOCK" -U postgres -d postgres -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE events (
  seq bigserial PRIMARY KEY,
  stream text NOT NULL,
  version bigint NOT NULL,
  type text NOT NULL,
  effective date NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  data jsonb NOT NULL,
  UNIQUE (stream, version)
);
-- Versions from one sequence: unique within every stream, so no client's
-- insert can ever conflict (as none of the ledger's can above).
CREATE SEQUENCE versions;
SQL
    # One transaction = one single-row INSERT of an event much like the
    # ledger's (the same JSON the HTTP clients post), into a stream of one of
    # PRODUCTS products. Autocommit: each INSERT commits durably on its own.
    cat >"$WORK/insert.sql" <<SQL
\set p random(0, $((PRODUCTS - 1)))
INSERT INTO events (stream, version, type, effective, data) VALUES ('product/BENCH-P' || :p, nextval('versions'), 'InspectionRecorded', '2024-06-12', '{"type":"RecordInspection","effective":"2024-06-12","product":"BENCH-P00000","compliant":true,"findings":"Đạt yêu cầu: nhãn, hạn dùng, điều kiện sản xuất","actor":{"principal":"bench.client","role":"inspector","unit":"BENCH"}}');
SQL
    say "# --- PostgreSQL 15: $CONNS pgbench clients, single-row INSERT transactions, ${SECONDS_RUN}s"
    lock
    say "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    # PostgreSQL's CPU: its running processes, plus the backends that have
    # exited (the postmaster's reaped children).
    pg_cpu() {
      local pm
      pm=$(head -1 "$PGDATA/postmaster.pid")
      echo $(( $(cpu_ticks "$pm" $(pgrep -P "$pm")) + $(awk '{print $16 + $17}' "/proc/$pm/stat") ))
    }
    before=$(pg_cpu)
    timeout "$STEP_TIMEOUT" pgbench -n -h "$PGSOCK" -U postgres -c "$CONNS" -j 2 -T "$SECONDS_RUN" \
      -f "$WORK/insert.sql" postgres >"$WORK/pgbench.out" 2>&1 || { cat "$WORK/pgbench.out"; exit 1; }
    after=$(pg_cpu)
    unlock
    grep -E 'failed|latency|tps' "$WORK/pgbench.out" | sed 's/^/# pgbench: /' | tee -a "$RESULTS"
    pg_rate=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$WORK/pgbench.out")
    pg_lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$WORK/pgbench.out")
    rows=$(psql -At -h "$PGSOCK" -U postgres -d postgres -c 'SELECT count(*) FROM events')
    say "# postgres CPU: $(( (after - before) * TICK_US / (rows > 0 ? rows : 1) )) us per transaction (postmaster and its children)"
    say "postgres insert_1 clients=$CONNS seconds=$SECONDS_RUN rows=$rows transactions_per_s=${pg_rate%.*} latency_avg_us=$(awk -v l="$pg_lat" 'BEGIN {printf "%d", l * 1000}')"
    stop_private_pg
  else
    say "# postgres: skipped (no $PG_BIN/initdb or pgbench)"
  fi
  if [[ -n "$post_rate" && -n "$pg_rate" ]]; then
    say "$(awk -v a="$post_rate" -v b="$pg_rate" -v c="$CONNS" 'BEGIN {
      r = a / b
      printf "goal: %d POST connections >= 2x postgres (issue 18; issue 6 asked 2.5x): %.0f / %.0f = %.2fx  %s", c, a, b, r, (r >= 2 ? "met" : "NOT met")
    }')"
  fi
  rm -rf "$WORK/ocop"
fi

# --- 2. reads of a big ledger while writes go on ------------------------------------
if [[ $part_get == 1 ]]; then
  BIG=$WORK/big
  if [[ -n "${OCOP_BENCH_BIG:-}" ]]; then
    say "# --- 2. copying $OCOP_BENCH_BIG ($(du -sh "$OCOP_BENCH_BIG" | cut -f1))"
    cp -a "$OCOP_BENCH_BIG" "$BIG"
  elif [[ -x "$BIN/national_gen" ]]; then
    say "# --- 2. generating a ledger of $BIG_EVENTS events (national_gen)"
    "$BIN/national_gen" --dir "$BIG" --events "$BIG_EVENTS" >"$WORK/gen.log" 2>&1 || { tail "$WORK/gen.log"; exit 1; }
  else
    say "# --- 2. no OCOP_BENCH_BIG and no national_gen: reading a ledger of only the bench products"
    mkdir -p "$BIG"
  fi
  rm -f "$BIG/tokens"
  setup "$BIG"
  # Fold every event into the projections before timing: the server catches
  # up on start, before it answers /healthz.
  say "# catching up the projections of $("$OCOP" --data "$BIG" tree-head | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])') events"
  start=$(date +%s)
  serve "$BIG"
  say "# served after $(( $(date +%s) - start ))s"
  # GET targets: 100,000 of the ledger's own products, drawn at random
  # (national_gen names them SP0000001.. and counts them in national.json),
  # else the bench products.
  if [[ -f "$BIG/national.json" ]]; then
    python3 - "$BIG/national.json" >"$WORK/get-products" <<'PY'
import json, random, sys
n = json.load(open(sys.argv[1]))["products"]
rng = random.Random(6)
for i in (rng.sample(range(1, n + 1), min(n, 100000))):
    print(f"SP{i:07d}")
PY
  else
    cp "$WORK/products" "$WORK/get-products"
  fi
  size=$(curl -sf "http://127.0.0.1:$PORT/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
  say "# --- GET /v1/products/{id}: $GET_CONNS connections, with $POST_CONNS connections POSTing, ${SECONDS_RUN}s, $size events"
  lock
  say "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  timeout "$STEP_TIMEOUT" "$BIN/http_load" --port "$PORT" --token-file "$WORK/token" \
    --products-file "$WORK/products" --get-products-file "$WORK/get-products" \
    --post "$POST_CONNS" --get "$GET_CONNS" --seconds "$SECONDS_RUN" | tee -a "$RESULTS"
  unlock
  commit_stats | tee -a "$RESULTS" || true
  stop_server
  p99=$(awk '$2 == "http_get" { for (i = 3; i <= NF; ++i) if ($i ~ /^p99_us=/) { sub(/.*=/, "", $i); print $i } }' "$RESULTS" | tail -1)
  [[ -n "$p99" ]] && say "goal: GET p99 < 2000 us with $size events under writes: $p99 us  $([[ $p99 -lt 2000 ]] && echo met || echo 'NOT met')"
fi
say "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# raw output: $RESULTS"
