#!/usr/bin/env bash
# Live capture, side by side: stenotype (with and without index), tcpdump,
# dumpcap and netsniff-ng on the same traffic (docs/PERFORMANCE.md).
#   sudo bench/live_bench.sh [PACKETS] [REPS] [OUT.md]
# defaults: 10000000 packets a point (5000000 at 1514 B), 3 repetitions.
# A veth pair with the generator's end in a network namespace; trafgen
# (PACKET_TX_RING) pinned to CPU 0 sends a seeded set of 12,000 frames of the
# benchmark traffic, looped; the capturer is pinned to CPU 1 (in the overload
# point a second trafgen worker shares CPU 1). Per point: packets offered,
# packets on disk (counted from the files), capturer CPU seconds per million
# packets offered, medians of REPS runs with min-max.
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${1:-10000000}
reps=${2:-3}
out=${3:-bench/results/live.md}
work=${WORK:-/tmp/stenotype-live-bench}
bin=$PWD/build
ns=stbench gen=stbg cap=stbc
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

for mix in 64 1514; do
  [[ -f $work/f$mix.cfg ]] && continue
  "$bin/bench/make_pcap" "$work/f$mix.pcap" 12000f "$mix" >/dev/null
  netsniff-ng --in "$work/f$mix.pcap" --out "$work/f$mix.cfg" -s >/dev/null 2>&1
done

# capturer NAME -> command line writing into $work/out
capture_cmd() {
  case $1 in
    stenotype) echo "$bin/stenotype --iface=$cap --dir=$work/out -v" ;;
    stenotype-noindex) echo "$bin/stenotype --iface=$cap --dir=$work/out --no_index -v" ;;
    tcpdump) echo "tcpdump -i $cap -w $work/out/all.pcap -s 0 -q" ;;
    dumpcap) echo "dumpcap -i $cap -w $work/out/all.pcap -q" ;;
    netsniff-ng) echo "netsniff-ng --in $cap --out $work/out/all.pcap -s" ;;
  esac
}
count_on_disk() {
  if [[ $1 == stenotype* ]]; then "$bin/bench/count_packets" --steno "$work/out"
  else "$bin/bench/count_packets" "$work/out/all.pcap"; fi
}

# one_run CAPTURER MIX N OVERLOAD -> "kept cpu_seconds"
one_run() {
  local name=$1 mix=$2 n=$3 overload=$4
  rm -rf "$work/out"; mkdir -p "$work/out"; chmod 755 "$work" "$work/out"
  # shellcheck disable=SC2046
  taskset -c 1 $(capture_cmd "$name") >/dev/null 2>"$work/err" &
  local pid=$!
  # Rings set up: stenotype says so (it maps and locks 2 GiB by default,
  # which takes seconds); the others get 2 s.
  if [[ $name == stenotype* ]]; then
    for _ in $(seq 1 300); do grep -q "capturing on" "$work/err" && break; sleep 0.1; done
  fi
  sleep 2
  local before t0
  before=$(cpu_ticks "$pid")
  t0=$(date +%s.%N)
  if [[ $overload == yes ]]; then
    ip netns exec "$ns" trafgen --dev "$gen" --conf "$work/f$mix.cfg" --num $((n / 2)) --cpus 1 -q --cpp >/dev/null 2>&1 &
    local second=$!
    ip netns exec "$ns" taskset -c 1 trafgen --dev "$gen" --conf "$work/f$mix.cfg" --num $((n / 2)) --cpus 1 -q --cpp >/dev/null 2>&1
    wait $second || true
  else
    ip netns exec "$ns" taskset -c 0 trafgen --dev "$gen" --conf "$work/f$mix.cfg" --num "$n" --cpus 1 -q --cpp >/dev/null 2>&1
  fi
  local rate
  rate=$(echo "$n / ($(date +%s.%N) - $t0) / 1000000" | bc -l)
  sleep 1
  # CPU while the traffic flowed (set-up and shutdown excluded).
  local cpu
  cpu=$(echo "($(cpu_ticks "$pid") - $before) / $(getconf CLK_TCK)" | bc -l)
  # SIGINT makes each tool flush what it has (stenotype waits for the
  # kernel to retire its last block, up to --blockage_sec).
  kill -INT "$pid"
  wait "$pid" 2>/dev/null || true
  echo "$(count_on_disk "$name") $cpu $rate"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

{
  echo "| point | capturer | offered | offered Mpps | kept (median) | kept % (min-max) | CPU s / Mpkt (median) |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
} > "$out"
for point in "64 max no" "1514 max no" "1514 max yes"; do
  read -r mix rate overload <<<"$point"
  n=$packets
  [[ $mix == 1514 ]] && n=$((packets / 2))
  label="${mix} B, generator max"
  if [[ $overload == yes ]]; then label="$label, overload (2nd worker on the capture core)"; fi
  for name in stenotype stenotype-noindex tcpdump dumpcap netsniff-ng; do
    results=()
    for ((r = 0; r < reps; r++)); do
      results+=("$(one_run "$name" "$mix" "$n" "$overload")")
    done
    kept=$(printf '%s\n' "${results[@]}" | awk '{ print $1 }' | median)
    lo=$(printf '%s\n' "${results[@]}" | awk '{ print $1 }' | sort -n | head -1)
    hi=$(printf '%s\n' "${results[@]}" | awk '{ print $1 }' | sort -n | tail -1)
    cpu=$(printf '%s\n' "${results[@]}" | awk -v n="$n" '{ print $2 / (n / 1e6) }' | median)
    mpps=$(printf '%s\n' "${results[@]}" | awk '{ print $3 }' | median)
    printf "| %s | %s | %s | %.2f | %s | %.1f%% (%.1f-%.1f) | %.3f |\n" "$label" "$name" "$n" "$mpps" "$kept" \
      "$(echo "100 * $kept / $n" | bc -l)" "$(echo "100 * $lo / $n" | bc -l)" "$(echo "100 * $hi / $n" | bc -l)" \
      "$cpu" | tee -a "$out"
  done
done
echo "written to $out"
