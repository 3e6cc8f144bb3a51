#!/usr/bin/env bash
# Fresh packets (docs/PERFORMANCE.md, "Fresh packets"): how soon a packet can
# be found by stenoread, and what making the open file queryable costs the
# capture.
#
#   sudo [BASELINE_STENOTYPE=OLD/stenotype] [REPS=3] bench/fresh_bench.sh [PROBES] [RATE] [SECONDS] [OUT.md]
#
# PROBES single-packet probes per phase (default 60), RATE the background
# load in packets/s (default 50000, IMIX of bench/traffic.hpp), SECONDS of
# load per load phase (default 45); REPS (environment, default 3) runs of
# each phase without queries. Captures one after the other, on
# a veth pair whose far end is in a network namespace, all with default
# rotation (60 s, 4 GiB) and --blockage_sec=1, the capture pinned to CPU 1
# and trafgen to CPU 0:
#   1. idle link: PROBES probes (bench/fresh_probe.py sends one UDP packet,
#      then runs stenoread for exactly it every 20 ms until found);
#   2. load, no queries: the capture's CPU per packet and kept fraction;
#   3. load with probes (stenoread running all the time): the same, and the
#      latency under load.
#   4. phase 2 with --no_open_files (no durable extent, no partial
#      indexes), alternating with phase 2: what publishing the open file
#      costs the capture. BASELINE_STENOTYPE=<binary> runs that binary
#      instead (e.g. one built before fresh packets), without the flag.
# Latency = send to the end of the first stenoread that returned the packet
# (so it includes one stenoread run). Kept = packets in the files after the
# stop / packets trafgen sent (+ probes).
set -euo pipefail
cd "$(dirname "$0")/.."
probes=${1:-60}
rate=${2:-50000}
seconds=${3:-45}
out=${4:-bench/results/fresh.md}
reps=${REPS:-3}
work=${WORK:-/tmp/stenotype-fresh-bench}
bin=$PWD/build
ns=frbns gen=frbg cap=frbc
mkdir -p "$work" "$(dirname "$out")"

# The veth pair, the namespace and trafgen's configurations (bench/lib/live.sh).
# shellcheck source=bench/lib/live.sh
source bench/lib/live.sh
trap live_cleanup EXIT
live_setup

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
sent() { tr -d "\r" | awk '/packets outgoing/ { p += $1 } END { print p + 0 }'; }
start_capture() {
  rm -rf "$work/out"
  mkdir -p "$work/out"
  chmod 755 "$work" "$work/out"
  # shellcheck disable=SC2086 # $2: extra flags, word-split on purpose
  taskset -c 1 "${1:-$bin/stenotype}" --iface="$cap" --dir="$work/out" --blockage_sec=1 --blocks=256 ${2:-} -v >"$work/err" 2>&1 &
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
load_phase() { # none|probes [BINARY [FLAGS]]
  start_capture "${2:-}" "${3:-}"
  local before n=$((rate * seconds)) probes_sent=0
  rm -f "$work/stop"
  before=$(cpu_ticks "$pid")
  if [[ $1 == probes ]]; then
    probe "$probes" "$work/lat-load" "$work/stop" &
    local prober=$!
  fi
  ip netns exec "$ns" taskset -c 0 trafgen --dev "$gen" --conf "$work/fimix.cfg" --num "$n" --cpus 1 -b "${rate}pps" \
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
# Phases 2 and 4 alternate, REPS times each (this VM's CPU time varies from
# run to run): medians and ranges below.
runs_q0=() runs_b=()
for ((r = 1; r <= reps; r++)); do
  echo "phase 2 ($r/$reps): $rate pps for $seconds s, no queries" >&2
  runs_q0+=("$(load_phase none)")
  if [[ -n ${BASELINE_STENOTYPE:-} ]]; then
    echo "phase 4 ($r/$reps): $rate pps for $seconds s, no queries, $BASELINE_STENOTYPE" >&2
    runs_b+=("$(load_phase none "$BASELINE_STENOTYPE")")
  else
    echo "phase 4 ($r/$reps): $rate pps for $seconds s, no queries, --no_open_files" >&2
    runs_b+=("$(load_phase none "$bin/stenotype" --no_open_files)")
  fi
done
echo "phase 3: $rate pps for $seconds s, with probes" >&2
runs_q1=("$(load_phase probes)")

row() { # label latencies-file
  local f=$2 n lost
  n=$(grep -vc inf "$f" || true)
  lost=$(grep -c inf "$f" || true)
  printf "| %s | %s | %s | %s | %s | %s |\n" "$1" "$n" "$(grep -v inf "$f" | pct 50)" "$(grep -v inf "$f" | pct 99)" \
    "$(grep -v inf "$f" | sort -g | tail -1)" "$lost"
}
cost() { # label "cpu sent kept"... -> medians (min-max) of kept % and CPU s / Mpkt
  local label=$1
  shift
  printf '%s\n' "$@" | awk -v l="$label" '
    { cpu[NR] = ($2 > 0 ? $1 / ($2 / 1e6) : 0); kept[NR] = ($2 > 0 ? 100 * $3 / $2 : 0); sent += $2; k += $3 }
    function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                   return a[int((n + 1) / 2)] " (" a[1] "-" a[n] ")" }
    END { printf "| %s | %d | %d | %s | %s |\n", l, NR, sent / NR, med(kept, NR), med(cpu, NR) }'
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
  echo "| capture, queries | runs | packets offered per run | kept %, median (min-max) | capture CPU s / Mpkt, median (min-max) |"
  echo "| --- | --- | --- | --- | --- |"
  cost "this stenotype, no queries" "${runs_q0[@]}"
  cost "this stenotype, stenoread probes all the time" "${runs_q1[@]}"
  cost "${BASELINE_STENOTYPE:-this stenotype --no_open_files}: no fresh packets, no queries" "${runs_b[@]}"
} | tee "$out"
echo "written to $out" >&2
