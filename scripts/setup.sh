#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs (only those missing), then
# configures and builds into build/. Safe to run again: it does only what is
# left to do. Usage: scripts/setup.sh [--debug]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake ninja-build pkg-config curl
  librocksdb-dev capnproto libcapnp-dev libssl-dev
  libspdlog-dev libfmt-dev libboost-dev libcli11-dev nlohmann-json3-dev
  libxlsxwriter-dev zlib1g-dev libjemalloc-dev
  libqrencode-dev  # the QR code of a product's public verification page
  catch2
  chromium chromium-driver  # the dashboard's browser test
  postgresql libpq-dev libsqlite3-dev  # the benchmarks' peers (bench/run.sh)
  libreoffice-calc-nogui  # a test opens the XLSX report in LibreOffice Calc
  golang-go golang-golang-x-mod-dev  # Go's sumdb/note checks our checkpoints in a test
  clang-14 libclang-rt-14-dev  # the fuzzers (fuzz/), built and run for 60 s each by CTest
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

build_type=Release
[ "${1:-}" = "--debug" ] && build_type=Debug
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type" >&2
cmake --build build -j"$(nproc)" >&2
echo "setup: built build/bin/ocop" >&2
