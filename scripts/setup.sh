#!/usr/bin/env bash
# Installs what stenotype needs on Debian 12 (only what is missing) and builds
# it into build/. Idempotent; run as root (or with sudo). EXTRA_PACKAGES adds
# more Debian packages (bench/run.sh: the benchmark's peers and fio).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config git
  libcaf-dev libaio-dev libseccomp-dev librocksdb-dev rocksdb-tools libcli11-dev
  catch2 libpcap-dev prometheus-cpp-dev
  clang libclang-rt-14-dev tshark
  libleveldb-dev stenographer stenographer-client libcap2-bin
  libcpp-httplib-dev libssl-dev jq
  iproute2 iputils-ping tcpdump procps python3 util-linux e2fsprogs bc curl
)
# shellcheck disable=SC2206
packages+=(${EXTRA_PACKAGES:-})
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
