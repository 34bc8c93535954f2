#!/usr/bin/env bash
# Soak (not a test): `ocop serve` under mixed load (writers posting commands
# with ids, readers), killed with SIGKILL at random moments, driven into a
# full disk (a tmpfs, when one can be mounted) and back, and its WAL damaged
# (one flipped byte, or a cut) on a copy put in its place, which must be
# refused before the intact copy is put back. At the end every acknowledged
# command is sent again with its id: each must come back as already applied.
#
# Prints acknowledged, lost (must be 0) and detected (damaged WALs refused)
# counts. Usage: bench/soak.sh [MINUTES] (default 30). Needs build/bin/ocop,
# curl; root for the tmpfs (without it, no disk-full episodes).
set -uo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-30}
ocop=$PWD/build/bin/ocop
[ -x "$ocop" ] || { echo "soak: build/bin/ocop is missing; build first" >&2; exit 2; }
work=$(mktemp -d /tmp/ocop-soak.XXXXXX)
mnt=$work/disk
mkdir -p "$mnt"
tmpfs=0
if mount -t tmpfs -o size=256m tmpfs "$mnt" 2>/dev/null; then tmpfs=1; fi
data=$mnt/data
server=0
writers=()
cleanup() {
  for p in "${writers[@]}"; do kill "$p" 2>/dev/null; done
  [ "$server" -gt 0 ] && kill -9 "$server" 2>/dev/null
  wait 2>/dev/null
  [ "$tmpfs" = 1 ] && umount -l "$mnt"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # through the EXIT trap: no server, writer or mount left behind
port=$((20000 + RANDOM % 20000))
reserve=16

"$ocop" --data "$data" --reserve-mb $reserve submit > /dev/null <<'EOF'
{"type":"DefineUnit","effective":"2022-01-01","unit":"CM","name":"Tỉnh Cà Mau","level":"province"}
{"type":"RegisterSubject","effective":"2022-03-01","subject":"S1","name":"HTX","legal_form":"HTX","unit":"CM"}
{"type":"RegisterIdea","effective":"2022-03-02","product":"P1","subject":"S1","name":"Mật ong","group":1,"unit":"CM","cycle_year":2022}
{"type":"RegisterIdea","effective":"2022-03-02","product":"P2","subject":"S1","name":"Khô cá","group":1,"unit":"CM","cycle_year":2022}
{"type":"GrantRole","effective":"2022-01-02","principal":"soak","role":"officer","unit":"CM"}
{"type":"RegisterIdea","effective":"2022-03-02","product":"P3","subject":"S1","name":"Mắm","group":1,"unit":"CM","cycle_year":2022}
EOF
token=$("$ocop" --data "$data" token add soak)
acked=$work/acked
: > "$acked"

start_server() {
  "$ocop" --data "$data" --reserve-mb $reserve serve --listen 127.0.0.1:$port 2>> "$work/serve.log" &
  server=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && return 0; sleep 0.1; done
  echo "soak: the server did not start; see $work/serve.log" >&2
  tail -5 "$work/serve.log" >&2
  return 1
}

# One writer: commands with unique ids; an acknowledged one (200) is logged
# as the exact line to send again at the end.
writer() {
  local w=$1 n=0
  while :; do
    n=$((n + 1))
    local id="w$w-$n-$RANDOM$RANDOM"
    local cmd="{\"type\":\"RegisterSubject\",\"id\":\"$id\",\"effective\":\"2022-04-01\",\"subject\":\"$id\",\"name\":\"Hộ $w $n\",\"legal_form\":\"HKD\",\"unit\":\"CM\"}"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/json' --data-binary "$cmd" "http://127.0.0.1:$port/v1/commands")
    [ "$code" = 200 ] && printf '%s\n' "$cmd" >> "$acked.$w"
    [ $((n % 5)) = 0 ] && curl -s -o /dev/null --max-time 10 -H "Authorization: Bearer $token" \
      "http://127.0.0.1:$port/v1/products/P1"
  done
}

wal_of() { ls -t "$1"/*.log 2>/dev/null | head -1; }
kills=0 full=0 refused_full=0 damaged=0 detected=0 cycles=0
end=$(($(date +%s) + minutes * 60))
start_server || exit 3
for w in 1 2 3 4; do writer $w & writers+=($!); done
while [ "$(date +%s)" -lt "$end" ]; do
  cycles=$((cycles + 1))
  sleep $((2 + RANDOM % 8))
  if [ "$tmpfs" = 1 ] && [ $((cycles % 4)) = 0 ]; then
    # Disk full: below the reserve for a few seconds, then freed.
    free_mb=$(($(stat -f -c '%a*%S' "$mnt") / 1048576))
    dd if=/dev/zero of="$mnt/fill" bs=1M count=$((free_mb - reserve / 2)) 2>/dev/null
    full=$((full + 1))
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $token" \
      --data-binary "{\"type\":\"RegisterSubject\",\"effective\":\"2022-04-01\",\"subject\":\"full$cycles\",\"name\":\"x\",\"legal_form\":\"HKD\",\"unit\":\"CM\"}" \
      "http://127.0.0.1:$port/v1/commands")
    [ "$code" = 507 ] && refused_full=$((refused_full + 1))
    sleep 3
    rm -f "$mnt/fill"
  fi
  kill -9 "$server"
  wait "$server" 2>/dev/null
  kills=$((kills + 1))
  if [ $((cycles % 3)) = 0 ]; then
    # WAL damage on the live directory, the intact copy kept aside: the
    # damaged one must be refused; then the copy goes back (a backup).
    rm -rf "$work/intact"
    cp -a "$data" "$work/intact"
    wal=$(wal_of "$data")
    if [ -n "$wal" ] && [ "$(stat -c %s "$wal")" -gt 4096 ]; then
      damaged=$((damaged + 1))
      size=$(stat -c %s "$wal")
      if [ $((RANDOM % 2)) = 0 ]; then
        at=$((RANDOM * 32768 % (size - 200) + 100))
        byte=$(od -An -tu1 -j "$at" -N1 "$wal" | tr -d ' ')
        printf "$(printf '\\%03o' $((byte ^ 4)))" | dd of="$wal" bs=1 seek="$at" conv=notrunc 2>/dev/null
      else
        truncate -s $((size - 1 - RANDOM % 100)) "$wal"
      fi
      if ! "$ocop" --data "$data" tree-head > /dev/null 2>> "$work/refusals.log"; then
        detected=$((detected + 1))
      else
        echo "soak: a damaged WAL was NOT refused (cycle $cycles)" >&2
      fi
    fi
    rm -rf "$data"
    mv "$work/intact" "$data"
  fi
  start_server || break
done
for p in "${writers[@]}"; do kill "$p" 2>/dev/null; done
wait "${writers[@]}" 2>/dev/null
writers=()
kill -9 "$server" 2>/dev/null
wait "$server" 2>/dev/null
server=0
cat "$acked".* > "$acked" 2>/dev/null

# Every acknowledged command again, with its id: each must be a duplicate.
total=$(wc -l < "$acked")
dup=$("$ocop" --data "$data" --reserve-mb $reserve submit --as soak < "$acked" | grep -c '"duplicate":true')
lost=$((total - dup))
verify=$("$ocop" --data "$data" verify 2>/dev/null | jq -r .ok)
echo "{\"minutes\":$minutes,\"acknowledged\":$total,\"lost\":$lost,\"sigkills\":$kills,\"disk_full_episodes\":$full,\"refused_507\":$refused_full,\"wal_damaged\":$damaged,\"detected\":$detected,\"verify_ok\":$verify}"
[ "$lost" = 0 ] && [ "$detected" = "$damaged" ]
