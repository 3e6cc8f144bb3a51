#!/usr/bin/env bash
# Live capture, side by side: stenotype (with and without index), Google's
# stenotype, tcpdump, dumpcap and netsniff-ng on the same traffic
# (docs/PERFORMANCE.md).
#
#   sudo bench/live_bench.sh [PACKETS] [REPS] [OUT.md]
#
# PACKETS a point (default 2000000; half of it at 1514 B), REPS runs a point
# (default 3). Environment: POINTS (default below), CAPTURERS (default: all
# that are installed), WORK (scratch directory), GOOGLE_STENOTYPE (Google's
# stenotype binary; default /usr/sbin/stenotype, Debian's build of 1.0.1 from
# the stenographer package -- point it at one built from a checkout to
# compare another version), STENOTYPE_BEFORE (another build of ours, run
# as capturer "stenotype-before": a change's before and after in one run),
# LIVE_NS / LIVE_GEN / LIVE_CAP (namespace and veth names; default stbench,
# stbg, stbc: two benchmarks at once need different ones).
#
# A veth pair with the generator's end in a network namespace. trafgen
# (netsniff-ng, PACKET_TX_RING) pinned to CPU 0 sends a seeded set of 12,000
# frames of the benchmark traffic (bench/traffic.hpp), looped; the capturer
# is pinned to CPU 1. A point is SIZE:RATE[:overload] -- SIZE 64, 1514 or
# imix; RATE "max" (the generator's maximum) or a fixed rate in packets/s
# (trafgen -b); "overload" adds a second generator worker on the capture
# core. Per point: packets offered (trafgen's count) and the rate achieved
# (its own send time: the wall time of the traffic), packets on disk (counted from the files, not from the
# tool's report), drops the tool reports, drops at the interface, capturer
# CPU seconds per million packets offered (from just before the traffic
# until the capturer exited after SIGINT: its last file's index and the
# stop included; /proc before, /usr/bin/time at the exit), medians of REPS
# runs with min-max.
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${1:-2000000}
reps=${2:-3}
out=${3:-bench/results/live.md}
points=${POINTS:-"64:max 1514:max 1514:200000 imix:max 1514:max:overload"}
work=${WORK:-/tmp/stenotype-live-bench}
google=${GOOGLE_STENOTYPE:-/usr/sbin/stenotype}
bin=$PWD/build
ns=${LIVE_NS:-stbench} gen=${LIVE_GEN:-stbg} cap=${LIVE_CAP:-stbc}
mkdir -p "$work" "$(dirname "$out")"

if [[ -z ${CAPTURERS:-} ]]; then
  CAPTURERS="stenotype stenotype-noindex"
  [[ -x $google ]] && CAPTURERS+=" google-stenotype"
  command -v tcpdump >/dev/null && CAPTURERS+=" tcpdump"
  command -v dumpcap >/dev/null && CAPTURERS+=" dumpcap"
  command -v netsniff-ng >/dev/null && CAPTURERS+=" netsniff-ng"
fi

# The veth pair, the namespace and trafgen's configurations of the 12,000
# frames (shared with the quota sweep and the idle/stop benchmark).
# shellcheck source=bench/lib/live.sh
source bench/lib/live.sh
trap live_cleanup EXIT
live_setup

# capturer NAME -> command line writing into $work/out
capture_cmd() {
  case $1 in
    # Default flags but --blockage_sec=1: a stop waits for the kernel to
    # retire the last, partly filled block (10 s by default); throughput is
    # not affected.
    stenotype) echo "$bin/stenotype --iface=$cap --dir=$work/out --blockage_sec=1 -v" ;;
    stenotype-noindex) echo "$bin/stenotype --iface=$cap --dir=$work/out --blockage_sec=1 --no_index -v" ;;
    stenotype-before) echo "${STENOTYPE_BEFORE:?STENOTYPE_BEFORE names the other build} --iface=$cap --dir=$work/out --blockage_sec=1 -v" ;;
    # Debian's build of Google's stenotype 1.0.1 (package stenographer), default
    # flags; its seccomp list predates this kernel and C library, so none.
    google-stenotype) echo "$google --iface=$cap --dir=$work/out --seccomp=none -v" ;;
    tcpdump) echo "tcpdump -i $cap -w $work/out/all.pcap -s 0" ;;
    dumpcap) echo "dumpcap -i $cap -w $work/out/all.pcap" ;;
    netsniff-ng) echo "netsniff-ng --in $cap --out $work/out/all.pcap -s" ;;
  esac
}
count_on_disk() {
  case $1 in
    stenotype*) "$bin/bench/count_packets" --steno "$work/out" ;;
    # It leaves its last file hidden when stopped; its packets count too.
    google-stenotype) "$bin/bench/count_packets" --steno-all "$work/out" ;;
    *) "$bin/bench/count_packets" "$work/out/all.pcap" ;;
  esac
}
# Drops as the tool itself reports them (from its log), or "-".
tool_drops() {
  local v=""
  case $1 in
    # Google's stats line layout: field 5 is the thread; its last line counts.
    stenotype*) v=$(awk '$4 == "Thread" && $6 == "stats:" { for (i = 7; i <= NF; i++) if ($i ~ /^drops=/) d[$5] = substr($i, 7) }
                         END { s = 0; for (t in d) s += d[t]; print s }' "$work/err") ;;
    google-stenotype) v=$(grep -o 'drops=[0-9]*' "$work/err" | tail -1 | cut -d= -f2) ;;
    tcpdump) v=$(grep -o '[0-9]* packets dropped by kernel' "$work/err" | awk '{ print $1 }') ;;
    dumpcap) v=$(grep -o 'received/dropped on interface[^:]*: [0-9]*/[0-9]*' "$work/err" | awk -F/ '{ print $NF }') ;;
    netsniff-ng) v=$(grep -o '[0-9]* *packets failed filter' "$work/err" | awk '{ print $1 }') ;;
  esac
  echo "${v:--}"
}
# Index bytes on disk per packet kept ("-" without an index).
index_bytes_per_packet() {
  local kept=$2
  case $1 in
    stenotype | stenotype-before | google-stenotype)
      local b
      b=$(du -sb "$work"/out/IDX* 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
      awk -v b="$b" -v k="$kept" 'BEGIN { if (k > 0) printf "%.2f", b / k; else print "-" }' ;;
    *) echo "-" ;;
  esac
}
rx_dropped() { awk -v d="$cap:" '$1 == d { print $5 }' /proc/net/dev; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# trafgen's own report -> "packets seconds"
sent() { tr -d "\r" | awk '/packets outgoing/ { p += $1 } / sec, .* usec on CPU/ { t = $1 + $3 / 1e6; if (t > s) s = t } END { print p + 0, s + 0 }'; }

# one_run CAPTURER MIX RATE OVERLOAD N -> "kept cpu_seconds sent_packets send_seconds tool_drops if_drops index_B/pkt"
one_run() {
  local name=$1 mix=$2 rate=$3 overload=$4 n=$5
  rm -rf "$work/out"
  mkdir -p "$work/out"
  if [[ $name == google-stenotype ]]; then
    mkdir -p "$work/out/PKT0" "$work/out/IDX0"
    chmod 777 "$work/out/PKT0" "$work/out/IDX0"
  fi
  chmod 755 "$work" "$work/out"
  # Under /usr/bin/time: the capturer's CPU until it exited, the index of
  # its last file included (/proc is gone by then, and bash reaps at once).
  rm -f "$work/time"
  # shellcheck disable=SC2046
  taskset -c 1 /usr/bin/time -f "%U %S" -o "$work/time" $(capture_cmd "$name") >"$work/err" 2>&1 &
  local timer=$! pid=""
  for _ in $(seq 1 100); do pid=$(pgrep -P "$timer" | head -1) && [[ -n $pid ]] && break; sleep 0.05; done
  # Wait until it says it captures (stenotype maps and locks a 2 GiB ring by
  # default, netsniff-ng sizes its ring from memory: seconds), then 1 s more.
  local ready
  case $name in
    stenotype*) ready="capturing on" ;;
    google-stenotype) ready="starting to process packets" ;;
    tcpdump) ready="listening on" ;;
    dumpcap) ready="Capturing on" ;;
    netsniff-ng) ready="Running!" ;;
  esac
  for _ in $(seq 1 300); do grep -q "$ready" "$work/err" && break; sleep 0.1; done
  sleep 1
  local before drop0 rate_flag=()
  before=$(cpu_ticks "$pid")
  drop0=$(rx_dropped)
  [[ $rate != max ]] && rate_flag=(-b "${rate}pps")
  if [[ $overload == overload ]]; then
    ip netns exec "$ns" taskset -c 0 trafgen --dev "$gen" --conf "$work/f$mix.cfg" --num $((n / 2)) --cpus 1 "${rate_flag[@]}" > "$work/gen0" 2>&1 &
    local first=$!
    ip netns exec "$ns" taskset -c 1 trafgen --dev "$gen" --conf "$work/f$mix.cfg" --num $((n / 2)) --cpus 1 "${rate_flag[@]}" > "$work/gen1" 2>&1 || true
    wait "$first" || true # (a bare wait would wait for the capturer too)
    cat "$work/gen0" "$work/gen1" > "$work/gen"
  else
    ip netns exec "$ns" taskset -c 0 trafgen --dev "$gen" --conf "$work/f$mix.cfg" --num "$n" --cpus 1 "${rate_flag[@]}" > "$work/gen" 2>&1 || true
  fi
  sleep 1
  local cpu if_drops
  if_drops=$(( $(rx_dropped) - drop0 ))
  kill -INT "$pid"
  # Google's stenotype does not exit after SIGINT (it writes its index within
  # about a second, then hangs): give it 3 s, then kill it.
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$timer" 2>/dev/null || true
  # All its CPU from before the traffic to its exit: the traffic's packets,
  # the last file's index and the stop.
  cpu=$(awk -v b="$before" -v hz="$(getconf CLK_TCK)" 'NF == 2 { print $1 + $2 - b / hz }' "$work/time" | tail -1)
  local kept
  kept=$(count_on_disk "$name")
  echo "$kept $cpu $(sent < "$work/gen") $(tool_drops "$name") $if_drops $(index_bytes_per_packet "$name" "$kept")"
}

{
  echo "| point | capturer | offered | Mpps achieved | wall s | kept (median) | kept % (min-max) | tool-reported drops | interface drops | CPU s / Mpkt (median) | index B / packet |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
} > "$out"
for point in $points; do
  IFS=: read -r mix rate overload <<<"$point"
  overload=${overload:-no}
  n=$packets
  [[ $mix == 1514 ]] && n=$((packets / 2))
  label="$mix B, $([[ $rate == max ]] && echo "generator max" || echo "$rate pps")"
  [[ $mix == imix ]] && label="IMIX 7:4:1, $([[ $rate == max ]] && echo "generator max" || echo "$rate pps")"
  [[ $overload == overload ]] && label="$label, overload (2nd worker on the capture core)"
  for name in $CAPTURERS; do
    results=()
    for ((r = 0; r < reps; r++)); do
      results+=("$(one_run "$name" "$mix" "$rate" "$overload" "$n")")
    done
    col() { printf '%s\n' "${results[@]}" | awk -v c="$1" '{ print $c }'; }
    offered=$(col 3 | median)
    kept=$(col 1 | median)
    # Kept as a share of what each run offered.
    pct=$(printf '%s\n' "${results[@]}" | awk '{ print ($3 > 0 ? 100 * $1 / $3 : 0) }' | sort -n)
    mpps=$(printf '%s\n' "${results[@]}" | awk '{ print ($4 > 0 ? $3 / $4 / 1e6 : 0) }' | median)
    cpu=$(printf '%s\n' "${results[@]}" | awk '{ print ($3 > 0 ? $2 / ($3 / 1e6) : 0) }' | median)
    printf "| %s | %s | %s | %.2f | %.2f | %s | %.1f%% (%.1f-%.1f) | %s | %s | %.3f | %s |\n" "$label" "$name" "$offered" \
      "$mpps" "$(col 4 | median)" "$kept" "$(echo "$pct" | median)" "$(echo "$pct" | head -1)" "$(echo "$pct" | tail -1)" \
      "$(col 5 | median)" "$(col 6 | median)" "$cpu" "$(col 7 | median)" | tee -a "$out"
  done
done
echo "written to $out"
