# bench/lib/live.sh -- pieces of a live-capture benchmark, sourced by
# bench/quota_sweep.sh and bench/idle_stop.sh (the same setup as
# bench/live_bench.sh): a veth pair with the generator's end in a network
# namespace, trafgen (PACKET_TX_RING) pinned to CPU 0 sending a seeded set
# of 12,000 frames of the benchmark traffic (bench/traffic.hpp), looped, and
# a capturer pinned to CPU 1.
#
# The caller sets: bin (the build directory), work (scratch directory),
# ns, gen, cap (namespace and veth names, unique to the benchmark), google
# (Google's stenotype binary; STENOTYPE overrides ours, for A/B runs),
# ring_mb (every capturer's buffer, MiB; empty:
# each tool's default), and calls live_setup; live_cleanup on exit.

live_cleanup() { ip link del "$cap" 2>/dev/null || true; ip netns del "$ns" 2>/dev/null || true; }

live_setup() {
  mkdir -p "$work"
  live_cleanup
  ip netns add "$ns"
  ip link add "$cap" type veth peer name "$gen"
  ip link set "$gen" netns "$ns"
  sysctl -qw "net.ipv6.conf.$cap.disable_ipv6=1"
  ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$gen.disable_ipv6=1"
  ip link set "$cap" up
  ip netns exec "$ns" ip link set "$gen" up
  # trafgen configurations of the 12,000 frames (plain: no C preprocessor).
  local mix
  for mix in 64 1514 imix; do
    [[ -f $work/f$mix.cfg ]] && continue
    "$bin/bench/make_pcap" "$work/f$mix.pcap" 12000f "$mix" >/dev/null
    netsniff-ng --in "$work/f$mix.pcap" --out "$work/f$mix.cfg" -s >/dev/null 2>&1
  done
}

# The installed capturers among ours and the peers.
live_capturers() {
  local c="stenotype"
  [[ -x $google ]] && c+=" google-stenotype"
  command -v tcpdump >/dev/null && c+=" tcpdump"
  command -v netsniff-ng >/dev/null && c+=" netsniff-ng"
  echo "$c"
}

# live_capture_cmd NAME [EXTRA...] -> the command line writing into $work/out.
# With ring_mb set, every capturer gets a buffer of that size.
live_capture_cmd() {
  local name=$1; shift
  local ours="" theirs="" tcpd="" nsng=""
  if [[ -n ${ring_mb:-} ]]; then
    ours="--blocks=$ring_mb --aiops=$((ring_mb < 128 ? ring_mb / 2 : 128))"
    theirs="--blocks=$ring_mb --aiops=$((ring_mb < 128 ? ring_mb / 2 : 128))"
    tcpd="-B $((ring_mb * 1024))"
    nsng="-S ${ring_mb}MiB"
  fi
  case $name in
    stenotype) echo "${STENOTYPE:-$bin/stenotype} --iface=$cap --dir=$work/out $ours -v $*" ;;
    stenotype-noindex) echo "${STENOTYPE:-$bin/stenotype} --iface=$cap --dir=$work/out $ours --no_index -v $*" ;;
    # Debian's build of Google's stenotype 1.0.1, default flags; its seccomp
    # list predates this kernel and C library, so none.
    google-stenotype) echo "$google --iface=$cap --dir=$work/out --seccomp=none $theirs -v $*" ;;
    tcpdump) echo "tcpdump -i $cap -w $work/out/all.pcap -s 0 $tcpd" ;;
    netsniff-ng) echo "netsniff-ng --in $cap --out $work/out/all.pcap -s $nsng" ;;
  esac
}

# What each capturer logs once it captures.
live_ready_text() {
  case $1 in
    stenotype*) echo "capturing on" ;;
    google-stenotype) echo "starting to process packets" ;;
    tcpdump) echo "listening on" ;;
    netsniff-ng) echo "Running!" ;;
  esac
}

# A fresh, empty output directory for capturer NAME.
live_fresh_out() {
  rm -rf "$work/out"
  mkdir -p "$work/out"
  if [[ $1 == google-stenotype ]]; then
    mkdir -p "$work/out/PKT0" "$work/out/IDX0"
    chmod 777 "$work/out/PKT0" "$work/out/IDX0"
  fi
  chmod 755 "$work" "$work/out"
}

live_count_on_disk() {
  case $1 in
    stenotype*) "$bin/bench/count_packets" --steno "$work/out" ;;
    # It leaves its last file hidden when stopped; its packets count too.
    google-stenotype) "$bin/bench/count_packets" --steno-all "$work/out" ;;
    *) "$bin/bench/count_packets" "$work/out/all.pcap" ;;
  esac
}

live_wait_ready() { # PID LOG NAME: until it logs that it captures (30 s at most), then 1 s more
  local text i
  text=$(live_ready_text "$3")
  for i in $(seq 1 300); do grep -q "$text" "$2" 2>/dev/null && break; kill -0 "$1" 2>/dev/null || return 1; sleep 0.1; done
  sleep 1
}

# CPU ticks (user + system) of a process and all its threads.
live_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# live_send MIX N [RATE] -> trafgen's report in $work/gen
live_send() {
  local rate_flag=()
  [[ -n ${3:-} && ${3:-} != max ]] && rate_flag=(-b "${3}pps")
  ip netns exec "$ns" taskset -c 0 trafgen --dev "$gen" --conf "$work/f$1.cfg" --num "$2" --cpus 1 \
    "${rate_flag[@]}" > "$work/gen" 2>&1 || true
}
# trafgen's report -> packets sent
live_sent() { tr -d "\r" < "$work/gen" | awk '/packets outgoing/ { p += $1 } END { print p + 0 }'; }

# Waits until PID is idle (at most one clock tick of CPU in each of two
# half seconds: it caught up), at most MAX s.
live_wait_quiet() {
  local pid=$1 max=$2 t0 t1 i quiet=0
  t0=$(live_cpu_ticks "$pid")
  for ((i = 0; i < max * 2; i++)); do
    sleep 0.5
    t1=$(live_cpu_ticks "$pid")
    if ((t1 - t0 <= 1)); then ((++quiet >= 2)) && return 0; else quiet=0; fi
    t0=$t1
  done
}

# Stops PID with SIGINT; kills it after MAX s (Google's stenotype never exits
# after SIGINT when no write is outstanding).
live_stop() {
  local pid=$1 max=${2:-5} i
  kill -INT "$pid" 2>/dev/null || true
  for ((i = 0; i < max * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
