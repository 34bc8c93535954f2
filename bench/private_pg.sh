# bench/private_pg.sh: sourced by the benchmark scripts (run.sh, national.sh,
# http_load.sh). A private PostgreSQL 15 in a scratch directory, on a Unix
# socket only (listen_addresses empty), owned by the user `postgres` when run
# as root (PostgreSQL refuses to run as root). fsync, synchronous_commit and
# full_page_writes keep their defaults (on): a commit is durable when it
# returns, as the ledger's is.
#
#   start_private_pg DIR [SETTING ...]   initdb in DIR/pg, socket in DIR/pgsock,
#                                         started with -c SETTING for each; sets
#                                         PGDATA, PGSOCK and pg_started=1
#   stop_private_pg                       stops it if started (safe in traps)

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
pg_started=0

as_pg() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_private_pg() {
  local dir=$1
  shift
  PGDATA=$dir/pg
  PGSOCK=$dir/pgsock
  mkdir -p "$PGDATA" "$PGSOCK"
  if [[ $(id -u) == 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/false postgres
    chown postgres "$dir" "$PGDATA" "$PGSOCK"
  fi
  as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log"; return 1; }
  local opts="-c listen_addresses='' -c unix_socket_directories='$PGSOCK'"
  local setting
  for setting in "$@"; do opts+=" -c $setting"; done
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$dir/pg.log" -w -t 60 start -o "$opts" >/dev/null \
    || { cat "$dir/pg.log"; return 1; }
  pg_started=1
}

stop_private_pg() {
  if [[ ${pg_started:-0} == 1 ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
    pg_started=0
  fi
}
