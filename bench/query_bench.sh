#!/usr/bin/env bash
# Query speed against tcpdump on the same packets (docs/PERFORMANCE.md).
#   bench/query_bench.sh [SIZE_MB] [WORKDIR]     (root: drops the page cache)
# Needs bc and tcpdump. Builds a SIZE_MB (default 1200) pcap of the benchmark traffic, imports it,
# then times, each from a cold page cache, best of 3:
#   selective: stenoread 'host H and port P'  vs  tcpdump -r all.pcap 'host H and port P'
#   broad:     stenoread 'tcp'                 vs  tcpdump -r all.pcap 'tcp'
#   export:    stenoread 'net 0.0.0.0/0' -w /dev/null, MB/s of packet files,
#              vs the disk's sequential read (dd, O_DIRECT, 1 MiB)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1200}
work=${2:-/tmp/stenotype-query-bench-$size}
bin=build
mkdir -p "$work"
[[ -f $work/all.pcap ]] || $bin/bench/make_pcap "$work/all.pcap" "$size" imix >/dev/null
if [[ ! -d $work/data ]]; then
  $bin/stenoimport --dir="$work/data" "$work/all.pcap" 2>/dev/null
fi
# One destination host and one destination port of the traffic.
host=192.168.0.77 port=443

cold() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
best() { # best of 3 wall seconds of "$@", cold cache each time
  local b=999999
  for _ in 1 2 3; do
    cold
    local s e
    s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
    b=$(echo "$e - $s" | bc -l | awk -v b="$b" '{ print ($1 < b) ? $1 : b }')
  done
  echo "$b"
}
count() { "$@" 2>/dev/null | tcpdump -nr - 2>/dev/null | wc -l; }

pcap_mb=$(( $(stat -c %s "$work/all.pcap") >> 20 ))
pkt_mb=$(( $(du -sb "$work/data/PKT0" | cut -f1) >> 20 ))
idx_mb=$(( $(du -sb "$work/data/IDX0" | cut -f1) >> 20 ))
echo "| query | packets | stenoread s | tcpdump -r s | speed-up |"
echo "| --- | --- | --- | --- | --- |"
for q in "host $host and port $port" "tcp"; do
  n=$(count $bin/stenoread -q --dir="$work/data" "$q")
  m=$(tcpdump -nr "$work/all.pcap" "$q" 2>/dev/null | wc -l)
  [[ $n == "$m" ]] || echo "WARNING: '$q': stenoread $n packets, tcpdump $m"
  s=$(best $bin/stenoread -q --dir="$work/data" "$q" -w /dev/null)
  t=$(best tcpdump -r "$work/all.pcap" -w /dev/null "$q")
  printf "| %s | %s | %.3f | %.3f | %.1fx |\n" "$q" "$n" "$s" "$t" "$(echo "$t / $s" | bc -l)"
done
s=$(best $bin/stenoread -q --dir="$work/data" "net 0.0.0.0/0" -w /dev/null)
# The disk's sequential read: all packet files, O_DIRECT, 1 MiB reads.
cold
ds=$(date +%s.%N)
for f in "$work"/data/PKT0/*; do dd if="$f" of=/dev/null bs=1M iflag=direct status=none; done
d=$(echo "$(date +%s.%N) - $ds" | bc -l)
dmb=$(( $(du -sb "$work/data/PKT0" | cut -f1) >> 20 ))
echo
printf "export: %s MiB of packet files in %.2f s = %.0f MiB/s; disk sequential read (dd O_DIRECT 1 MiB): %.0f MiB/s; ratio %.0f%%\n" \
  "$pkt_mb" "$s" "$(echo "$pkt_mb / $s" | bc -l)" "$(echo "$dmb / $d" | bc -l)" \
  "$(echo "100 * ($pkt_mb / $s) / ($dmb / $d)" | bc -l)"
echo "data: $pcap_mb MiB pcap; $pkt_mb MiB of packet files, $idx_mb MiB of indexes; $(ls "$work"/data/PKT0 | wc -l) files"
