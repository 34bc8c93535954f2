#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and AddressSanitizer into build-fuzz/
# and runs each for SECONDS (default 600), growing the corpora in fuzz/corpus.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(command_fuzz http_fuzz)
cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOCOP_FUZZ=ON -DBUILD_TESTING=OFF -DOCOP_BUILD_BENCH=OFF >&2
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]}" >&2
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/${t%_fuzz}
  mkdir -p "$corpus" "build-fuzz/artifacts/$t"
  echo "fuzz: $t for ${seconds}s on $corpus" >&2
  # Leaks are checked too; a crash leaves its input in build-fuzz/artifacts.
  build-fuzz/bin/$t "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=20 \
    -artifact_prefix="build-fuzz/artifacts/$t/" -print_final_stats=1 2>&1 | tail -n 25 &
done
wait
