#!/usr/bin/env bash
# Query speed against tcpdump on the same packets (docs/PERFORMANCE.md, section 3).
#   sudo bench/query_bench.sh [SIZE_MB] [WORKDIR]      (root: drops the page cache)
#   sudo SIZE_MB=10000 RUNS=1 bench/query_bench.sh     (the issue's 10 GB point)
# Needs bc, tcpdump, fio. Builds a SIZE_MB (default 1200) pcap of the benchmark traffic, imports it
# (the size must fit twice, and a fifth more, on WORKDIR's disk: checked), then times, each
# from a cold page cache, best of RUNS (default 3):
#   selective: stenoread 'host H and port P'  vs  tcpdump -r all.pcap 'host H and port P'
#   broad:     stenoread 'tcp'                 vs  tcpdump -r all.pcap 'tcp'
#   export:    stenoread 'net 0.0.0.0/0' -w /dev/null, MiB/s of packet files, vs the disk's
#              sequential read of the same files: dd (O_DIRECT, 1 MiB, one read at a time) and
#              fio (O_DIRECT, 1 MiB, 16 reads in flight, its own MiB/s); the ratio is to the faster
#              With BEFORE=<another stenoread>, its export is timed too, in the same run (a change's
#              before and after side by side on this shared machine).
# and prints the ratios, with the disk's random 4 KiB reads per second at depth 32 (fio), which
# bound a selective query: each candidate packet, and its block's header, is one such read.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-${SIZE_MB:-1200}}
work=${2:-/tmp/stenotype-query-bench-$size}
runs=${RUNS:-3}
bin=build
mkdir -p "$work"
if [[ ! -d $work/data ]]; then
  need=$(( size * 23 / 10 + 1024 )) # pcap + packet files (~1.2x) + indexes, in MiB
  free=$(( $(df --output=avail -m "$work" | tail -1) ))
  (( free >= need )) || { echo "query_bench.sh: $size MB needs ~$need MiB on $(df --output=target "$work" | tail -1), $free free: use a smaller SIZE_MB" >&2; exit 2; }
fi
[[ -f $work/all.pcap ]] || $bin/bench/make_pcap "$work/all.pcap" "$size" imix >/dev/null
if [[ ! -d $work/data ]]; then
  $bin/stenoimport --dir="$work/data" "$work/all.pcap" 2>/dev/null
fi
# One destination host and one destination port of the traffic.
host=192.168.0.77 port=443

cold() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
best() { # best of $runs wall seconds of "$@", cold cache each time
  local b=999999
  for _ in $(seq "$runs"); do
    cold
    local s e
    s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
    b=$(echo "$e - $s" | bc -l | awk -v b="$b" '{ print ($1 < b) ? $1 : b }')
  done
  echo "$b"
}
count() { "$@" 2>/dev/null | $bin/bench/count_packets -; } # packets of a pcap on stdout
ddall() { for f in "$work"/data/PKT0/*; do dd if="$f" of=/dev/null bs=1M iflag=direct status=none; done; }
fio_mbs() { # MiB/s reading the packet files one after another, 16 reads of 1 MiB in flight: best of $runs
  local b=0
  for _ in $(seq "$runs"); do
    cold
    local kbs
    kbs=$(fio --name=seq --filename="$(ls -d "$work"/data/PKT0/* | paste -sd:)" --file_service_type=sequential \
            --rw=read --bs=1M --direct=1 --ioengine=libaio --iodepth=16 --output-format=terse 2>/dev/null | cut -d';' -f7)
    b=$(( ${kbs:-0} / 1024 > b ? ${kbs:-0} / 1024 : b ))
  done
  echo "$b"
}

pcap_mb=$(( $(stat -c %s "$work/all.pcap") >> 20 ))
pkt_mb=$(( $(du -sb "$work/data/PKT0" | cut -f1) >> 20 ))
idx_mb=$(( $(du -sb "$work/data/IDX0" | cut -f1) >> 20 ))
echo "| query | packets | stenoread s | tcpdump -r s | speed-up |"
echo "| --- | --- | --- | --- | --- |"
for q in "host $host and port $port" "tcp"; do
  n=$(count $bin/stenoread -q --dir="$work/data" "$q")
  m=$(count tcpdump -r "$work/all.pcap" -w - "$q")
  [[ $n == "$m" ]] || echo "WARNING: '$q': stenoread $n packets, tcpdump $m"
  s=$(best $bin/stenoread -q --dir="$work/data" "$q" -w /dev/null)
  t=$(best tcpdump -r "$work/all.pcap" -w /dev/null "$q")
  printf "| %s | %s | %.3f | %.3f | %.1fx |\n" "$q" "$n" "$s" "$t" "$(echo "$t / $s" | bc -l)"
done
s=$(best $bin/stenoread -q --dir="$work/data" "net 0.0.0.0/0" -w /dev/null)
d=$(best ddall)
f=$(fio_mbs)
dd_mbs=$(echo "$pkt_mb / $d" | bc -l)
seq=$(echo "if ($dd_mbs > $f) $dd_mbs else $f" | bc -l)
echo
printf "export: %s MiB of packet files in %.2f s = %.0f MiB/s; sequential read of the same files: dd (O_DIRECT, 1 MiB) %.0f MiB/s, fio (O_DIRECT, 1 MiB, depth 16) %.0f MiB/s; export / the faster: %.0f%%\n" \
  "$pkt_mb" "$s" "$(echo "$pkt_mb / $s" | bc -l)" "$dd_mbs" "$f" "$(echo "100 * ($pkt_mb / $s) / $seq" | bc -l)"
if [[ -n ${BEFORE:-} ]]; then
  s0=$(best "$BEFORE" -q --dir="$work/data" "net 0.0.0.0/0" -w /dev/null)
  printf "export with BEFORE (%s): %.2f s = %.0f MiB/s: export / the faster: %.0f%%\n" \
    "$BEFORE" "$s0" "$(echo "$pkt_mb / $s0" | bc -l)" "$(echo "100 * ($pkt_mb / $s0) / $seq" | bc -l)"
fi
# The disk's random reads at depth (what a selective query's reads are).
iops=$(fio --name=rand --filename="$(ls -d "$work"/data/PKT0/* | head -8 | paste -sd:)" --rw=randread --bs=4k \
         --direct=1 --ioengine=libaio --iodepth=32 --runtime=5 --time_based --output-format=terse 2>/dev/null \
       | cut -d';' -f8)
echo "disk: ${iops:-?} random 4 KiB reads/s at depth 32 (fio, O_DIRECT, over 8 of the packet files)"
echo "data: $pcap_mb MiB pcap; $pkt_mb MiB of packet files, $idx_mb MiB of indexes; $(ls "$work"/data/PKT0 | wc -l) files; load average $(cut -d' ' -f1-3 /proc/loadavg)"
