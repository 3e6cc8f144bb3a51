#!/usr/bin/env bash
# Builds the libFuzzer targets (packet parser, block reader, query parser,
# pcap importer, whole packet files through the readers, the query
# service's HTTP requests, fleet batches) with clang
# (build-fuzz/) and runs each for
# SECONDS (default 30), seeded from ../shared/corpus when it is present.
# Exit status non-zero on any finding; crashing inputs land in build-fuzz/.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
command -v clang++ >/dev/null || { echo "fuzz: clang++ missing (scripts/setup.sh installs it)"; exit 1; }
cmake -S tests/fuzz -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null

seeds=build-fuzz/seeds
if [[ ! -d $seeds/files ]]; then
  mkdir -p "$seeds/frames" "$seeds/blocks" "$seeds/queries" "$seeds/pcaps" "$seeds/files"
  printf '%s' 'host 10.1.2.3 and port 443 and after 10m ago' > "$seeds/queries/1"
  printf '%s' '(tcp or udp) && net 2001:db8::/32 || vlan 100' > "$seeds/queries/2"
  printf '%s' 'net 10.0.0.0 mask 255.0.0.0 and before 2026-11-27T10:02:00.5+01:00' > "$seeds/queries/3"
  printf '%s' 'ip proto 47 or mpls 16 or icmp' > "$seeds/queries/4"
  corpus=../shared/corpus/tcpdump-tests
  if [[ -d $corpus ]]; then
    python3 scripts/pcap_to_seeds.py "$corpus" "$seeds" 3000
    for f in "$corpus"/*.pcap; do [[ $(stat -c %s "$f") -lt 65536 ]] && cp "$f" "$seeds/pcaps/"; done
  else
    echo "fuzz: ../shared/corpus not present; starting from empty seeds"
  fi
fi

if [[ ! -d $seeds/requests ]]; then # the query service's (added later: its own check)
  mkdir -p "$seeds/requests"
  printf 'POST /query HTTP/1.1\r\nHost: s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 14\r\n\r\nhost 10.1.2.3\n' > "$seeds/requests/1"
  printf 'POST /query?format=pcapng HTTP/1.1\r\nSteno-Limit-Packets: 0x10\r\nSteno-Limit-Bytes: 100\r\nContent-Length: 3\r\n\r\ntcpGET /debug/stats HTTP/1.1\r\n\r\n' > "$seeds/requests/2"
  printf 'POST /query HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nudp o\r\n4\r\nr ic\r\n0\r\n\r\n' > "$seeds/requests/3"
  printf 'POST /query HTTP/1.1\r\nContent-Length: 12\r\n\r\nafter 3m agoPOST /x HTTP/1.0\r\n\r\n' > "$seeds/requests/4"
fi

if [[ ! -d $seeds/batches ]]; then # fleet batches (added later: its own check)
  mkdir -p "$seeds/batches"
  # Two records: 28-byte header (sec nsec caplen wire_len status vlan_tci vlan_tpid thread pad) + frame + padding.
  python3 -c '
import struct, sys
rec = lambda cl, st, tci: struct.pack("<IIIIIHHHH", 1790000000, 5, cl, cl, st, tci, 0x8100, 1, 0) + bytes(cl) + bytes((4 - cl % 4) % 4)
sys.stdout.buffer.write(rec(60, 0x10, 100) + rec(61, 0, 0))' > "$seeds/batches/1"
fi

for target in packet_parser_fuzzer:frames block_fuzzer:blocks query_parser_fuzzer:queries pcap_import_fuzzer:pcaps \
              packet_file_fuzzer:files query_request_fuzzer:requests fleet_batch_fuzzer:batches; do
  name=${target%%:*} dir=${target##*:}
  mkdir -p "build-fuzz/corpus-$name"
  echo "fuzz: $name for ${seconds}s"
  (cd build-fuzz && "./$name" -max_total_time="$seconds" -max_len=70000 -rss_limit_mb=2048 \
      -print_final_stats=1 "corpus-$name" "seeds/$dir" 2>&1 | grep -E "stat::|ERROR|SUMMARY|Done" || true)
  # libFuzzer's exit code is lost in the pipe: a finding leaves crash-* files.
  if compgen -G "build-fuzz/crash-*" >/dev/null || compgen -G "build-fuzz/leak-*" >/dev/null; then
    echo "fuzz: $name found a crash: $(ls build-fuzz/crash-* build-fuzz/leak-* 2>/dev/null | head -3)"
    exit 1
  fi
done
echo "fuzz: no findings"
