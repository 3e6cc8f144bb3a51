#!/usr/bin/env bash
# Every benchmark, side by side with the peers, in one command
# (docs/PERFORMANCE.md explains each table):
#
#   sudo bench/run.sh                 # standard profile, ~50 min on 2 cores (the quota sweep ~30)
#   sudo FULL=1 bench/run.sh          # 10 M packets a point (5 M at 1514 B), ~1 h
#
# Installs what is missing (Debian packages: the build, fio, netsniff-ng
# (trafgen), tcpdump, tshark (dumpcap), stenographer (Google's stenotype,
# Debian's build of 1.0.1)), builds Release, then runs
#   1. the offline pipeline (index + O_DIRECT write from memory) vs fio,
#   2. the index against the std::map baseline,
#   3. stenoread vs tcpdump -r on the same packets,
#   4. live capture on a veth pair: stenotype (index on/off), Google's
#      stenotype, tcpdump, dumpcap, netsniff-ng,
#   5. exports and a selective query through the query service (TLS) vs stenoread,
#   6. the quota sweep: the smallest CPU quota at which each capturer keeps
#      100% of 60 B and of 1514 B traffic (ours, Google's stenotype, tcpdump,
#      netsniff-ng), and ours again with 4 queries running (bench/quota_sweep.sh),
#   7. idle CPU and stop-to-exit time (bench/idle_stop.sh),
# then bench/goals.sh: issue 18's goals, ours vs the peers, with verdicts;
# and writes bench/results/report.md with the machine it ran on.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) == 0 ]] || { echo "bench/run.sh: run as root (veth pairs, namespaces, page cache drops)" >&2; exit 2; }
EXTRA_PACKAGES="fio netsniff-ng tcpdump tshark stenographer curl jq" scripts/setup.sh >/dev/null
results=bench/results
mkdir -p "$results"
report=$results/report.md
start=$(date +%s)
if [[ -n ${FULL:-} ]]; then
  live_packets=10000000 pipeline_gib=4 query_mb=1200
else
  live_packets=1000000 pipeline_gib=2 query_mb=600
fi

echo "== 1/7 offline pipeline vs fio"
bench/pipeline_vs_fio.sh "$pipeline_gib" 3 "$results/pipeline.md" >/dev/null
echo "== 2/7 index vs baseline"
{
  build/bench/index_bench --mix 64 --blocks 1024
  echo
  build/bench/index_bench --mix imix --blocks 1024 | tail -n +3
  echo
  # Issue 18, goal 1: index memory with 400k distinct flows.
  build/bench/index_bench --mix 64 --blocks 1024 --unique 400000 | tail -n +3
} > "$results/index.md"
echo "== 3/7 stenoread vs tcpdump -r"
bench/query_bench.sh "$query_mb" > "$results/query.md"
echo "== 4/7 live capture"
bench/live_bench.sh "$live_packets" 3 "$results/live.md" >/dev/null
echo "== 5/7 queries through the query service vs stenoread"
bench/query_service_bench.sh "$query_mb" > "$results/query_service.md"
echo "== 6/7 quota sweep"
bench/quota_sweep.sh "$results/quota_sweep.md" >/dev/null
echo "== 7/7 idle and stop"
bench/idle_stop.sh "$results/idle_stop.md" >/dev/null
bench/goals.sh "$results" >/dev/null

{
  echo "# Benchmark report"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(( ($(date +%s) - start) / 60 )) min, profile $([[ -n ${FULL:-} ]] && echo full || echo standard), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo
  echo "Machine: $(lscpu | awk -F: '/Model name/ { gsub(/^ +/, "", $2); print $2 }'), $(nproc) cores," \
       "$(free -g | awk '/Mem:/ { print $2 }') GiB, $(lscpu | awk -F: '/Hypervisor vendor/ { gsub(/^ +/, "", $2); print $2 " VM," }')" \
       "Linux $(uname -r), disk $(df -h "$PWD" | awk 'NR == 2 { print $1 }'); trafgen $(trafgen -v 2>&1 | grep -o 'trafgen [0-9.]*' | head -1 | cut -d' ' -f2)," \
       "tcpdump $(tcpdump --version 2>&1 | head -1 | awk '{ print $3 }'), dumpcap $(dumpcap -v 2>&1 | head -1 | awk '{ print $3 }')," \
       "$(fio --version), Google stenotype $(dpkg-query -W -f='${Version}' stenographer 2>/dev/null) (Debian build)"
  echo
  echo "## 1. Offline pipeline vs the disk (fio)"
  echo
  cat "$results/pipeline.md"
  echo
  echo "## 2. Index vs the std::map baseline"
  echo
  cat "$results/index.md"
  echo
  echo "## 3. Queries: stenoread vs tcpdump -r"
  echo
  cat "$results/query.md"
  echo
  echo "## 4. Live capture, side by side ($live_packets packets a point, half at 1514 B; 3 runs, medians)"
  echo
  cat "$results/live.md"
  echo
  echo "## 5. Queries through the query service vs a local stenoread"
  echo
  cat "$results/query_service.md"
  echo
  echo "## 6. Quota sweep: lossless on a starved core"
  echo
  cat "$results/quota_sweep.md"
  echo
  echo "## 7. Idle and stop"
  echo
  cat "$results/idle_stop.md"
  echo
  echo "## Issue 18 goals"
  echo
  cat "$results/goals.md"
} > "$report"
echo "written to $report in $(( ($(date +%s) - start) / 60 )) min"
