#!/usr/bin/env bash
# Fresh packets (docs/PERFORMANCE.md, "Fresh packets"): how soon a packet can
# be found by stenoread, and what making the open file queryable costs the
# capture.
#
#   sudo bench/fresh_bench.sh [PROBES] [RATE] [SECONDS] [OUT.md]
#
# PROBES single-packet probes per phase (default 60), RATE the background
# load in packets/s (default 50000, IMIX of bench/traffic.hpp), SECONDS of
# load per load phase (default 45). Three captures, one after the other, on
# a veth pair whose far end is in a network namespace, all with default
# rotation (60 s, 4 GiB) and --blockage_sec=1, the capture pinned to CPU 1
# and trafgen to CPU 0:
#   1. idle link: PROBES probes (bench/fresh_probe.py sends one UDP packet,
#      then runs stenoread for exactly it every 20 ms until found);
#   2. load, no queries: the capture's CPU per packet and kept fraction;
#   3. load with probes (stenoread running all the time): the same, and the
#      latency under load.
#   4. with BASELINE_STENOTYPE=<binary> (a stenotype built without fresh
#      packets, e.g. from the commit before them), phase 2 with that binary:
#      what publishing the open file costs the capture.
# Latency = send to the end of the first stenoread that returned the packet
# (so it includes one stenoread run). Kept = packets in the files after the
# stop / packets trafgen sent (+ probes).
set -euo pipefail
cd "$(dirname "$0")/.."
probes=${1:-60}
rate=${2:-50000}
seconds=${3:-45}
out=${4:-bench/results/fresh.md}
work=${WORK:-/tmp/stenotype-fresh-bench}
bin=$PWD/build
ns=frbns gen=frbg cap=frbc
mkdir -p "$work" "$(dirname "$out")"

cleanup() { ip link del "$cap" 2>/dev/null || true; ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add "$ns"
ip link add "$cap" type veth peer name "$gen"
ip link set "$gen" netns "$ns"
sysctl -qw "net.ipv6.conf.$cap.disable_ipv6=1"
ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$gen.disable_ipv6=1"
ip link set "$cap" up
ip netns exec "$ns" ip link set "$gen" up
if [[ ! -f $work/imix.cfg ]]; then
  "$bin/bench/make_pcap" "$work/imix.pcap" 12000f imix >/dev/null
  netsniff-ng --in "$work/imix.pcap" --out "$work/imix.cfg" -s >/dev/null 2>&1
fi

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
sent() { tr -d "\r" | awk '/packets outgoing/ { p += $1 } END { print p + 0 }'; }
start_capture() {
  rm -rf "$work/out"
  mkdir -p "$work/out"
  chmod 755 "$work" "$work/out"
  taskset -c 1 "${1:-$bin/stenotype}" --iface="$cap" --dir="$work/out" --blockage_sec=1 --blocks=256 -v >"$work/err" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do grep -q "capturing on" "$work/err" && break; sleep 0.1; done
  sleep 1
}
stop_capture() {
  kill -INT "$pid"
  wait "$pid" || true
}
probe() { # N OUT [STOP_FILE]
  ip netns exec "$ns" python3 bench/fresh_probe.py "$gen" "$work/out" "$bin/stenoread" "$@"
}
# percentile P of the numbers on stdin (nearest rank)
pct() { sort -g | awk -v p="$1" '{ a[NR] = $1 } END { r = int((p * NR + 99) / 100); if (r < 1) r = 1; print a[r] }'; }
# load phase: trafgen for $seconds; with "probes", probes meanwhile -> "cpu_s sent kept"
load_phase() { # none|probes [BINARY]
  start_capture "${2:-}"
  local before n=$((rate * seconds)) probes_sent=0
  rm -f "$work/stop"
  before=$(cpu_ticks "$pid")
  if [[ $1 == probes ]]; then
    probe "$probes" "$work/lat-load" "$work/stop" &
    local prober=$!
  fi
  ip netns exec "$ns" taskset -c 0 trafgen --dev "$gen" --conf "$work/imix.cfg" --num "$n" --cpus 1 -b "${rate}pps" \
    >"$work/gen" 2>&1 || true
  local cpu
  cpu=$(echo "($(cpu_ticks "$pid") - $before) / $(getconf CLK_TCK)" | bc -l)
  if [[ $1 == probes ]]; then
    touch "$work/stop"
    wait "$prober"
    probes_sent=$(wc -l <"$work/lat-load")
  fi
  stop_capture
  local kept
  kept=$("$bin/bench/count_packets" --steno "$work/out")
  echo "$cpu $(( $(sent <"$work/gen") + probes_sent )) $kept"
}

echo "phase 1: $probes probes on an idle link" >&2
start_capture
probe "$probes" "$work/lat-idle"
stop_capture
echo "phase 2: $rate pps for $seconds s, no queries" >&2
read -r cpu_q0 sent_q0 kept_q0 < <(load_phase none)
echo "phase 3: $rate pps for $seconds s, with probes" >&2
read -r cpu_q1 sent_q1 kept_q1 < <(load_phase probes)
if [[ -n ${BASELINE_STENOTYPE:-} ]]; then
  echo "phase 4: $rate pps for $seconds s, no queries, $BASELINE_STENOTYPE" >&2
  read -r cpu_b sent_b kept_b < <(load_phase none "$BASELINE_STENOTYPE")
fi

row() { # label latencies-file
  local f=$2 n lost
  n=$(grep -vc inf "$f" || true)
  lost=$(grep -c inf "$f" || true)
  printf "| %s | %s | %s | %s | %s | %s |\n" "$1" "$n" "$(grep -v inf "$f" | pct 50)" "$(grep -v inf "$f" | pct 99)" \
    "$(grep -v inf "$f" | sort -g | tail -1)" "$lost"
}
cost() { # label cpu sent kept
  awk -v l="$1" -v c="$2" -v s="$3" -v k="$4" \
    'BEGIN { printf "| %s | %d | %d | %.2f%% | %.3f |\n", l, s, k, (s > 0 ? 100 * k / s : 0), (s > 0 ? c / (s / 1e6) : 0) }'
}
{
  echo "Send to queryable (s), --blockage_sec=1, default rotation:"
  echo
  echo "| link | probes found | p50 | p99 | max | not found in 30 s |"
  echo "| --- | --- | --- | --- | --- | --- |"
  row "idle" "$work/lat-idle"
  row "$rate pps IMIX" "$work/lat-load"
  echo
  echo "The capture under $rate pps IMIX for $seconds s:"
  echo
  echo "| queries | packets offered | kept | kept % | capture CPU s / Mpkt |"
  echo "| --- | --- | --- | --- | --- |"
  cost "none" "$cpu_q0" "$sent_q0" "$kept_q0"
  cost "stenoread probes all the time" "$cpu_q1" "$sent_q1" "$kept_q1"
  if [[ -n ${BASELINE_STENOTYPE:-} ]]; then
    cost "none; baseline without fresh packets" "$cpu_b" "$sent_b" "$kept_b"
  fi
} | tee "$out"
echo "written to $out" >&2
