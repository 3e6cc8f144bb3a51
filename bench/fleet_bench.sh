#!/usr/bin/env bash
# Fleet queries: client memory and throughput with 3 and 10 sensors (docs/PERFORMANCE.md, "Fleet queries"):
#   sudo bench/fleet_bench.sh [SIZE_MB_PER_SENSOR] [WORKDIR]
# Builds a SIZE_MB (default 40) pcap of the benchmark traffic, imports it
# into 10 data directories (one per simulated sensor), makes a CertPath with
# Debian's stenokeys, starts 10 stenotype processes, each on an idle veth
# pair of its own with --fleet_port over its directory, then, warm page
# cache, best of 3, for 3 and then 10 sensors:
#   stenoread --sensor=... 'net 0.0.0.0/0' -w /dev/null   (all packets, merged)
# wall time, MB/s of merged answer, the client's peak RSS and CPU time (GNU time);
# beside it a local stenoread of one directory, for the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-40}
work=${2:-/tmp/stenotype-fleet-bench-$size}
bin=build
[[ $(id -u) == 0 ]] || { echo "fleet_bench.sh: run as root (veth pairs, stenokeys)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "fleet_bench.sh: needs GNU time (/usr/bin/time)" >&2; exit 2; }
mkdir -p "$work"
[[ -f $work/all.pcap ]] || $bin/bench/make_pcap "$work/all.pcap" "$size" imix >/dev/null
certs=$work/certs config=$work/steno.config
cat > "$config" <<JSON
{ "Threads": [ { "PacketsDirectory": "/nonexistent/p", "IndexDirectory": "/nonexistent/i" } ],
  "StenotypePath": "/bin/false", "Flags": [], "Port": 1, "Host": "127.0.0.1", "CertPath": "$certs" }
JSON
[[ -f $certs/server_key.pem ]] || STENOGRAPHER_CONFIG=$config /usr/sbin/stenokeys root root >/dev/null 2>&1
n=10
base=$((30000 + $$ % 20000))
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for i in $(seq 0 $((n - 1))); do ip link del "flb$$x$i" 2>/dev/null || true; done
}
trap cleanup EXIT
for i in $(seq 0 $((n - 1))); do
  d=$work/data$i
  [[ -d $d ]] || $bin/stenoimport --dir="$d" --thread=1 --fileage_sec=600 "$work/all.pcap" 2>/dev/null
  chown -R nobody: "$d"
  v=flb$$x$i
  ip link add "$v" type veth peer name "${v}p"
  sysctl -qw "net.ipv6.conf.$v.disable_ipv6=1" "net.ipv6.conf.${v}p.disable_ipv6=1"
  ip link set "$v" up
  ip link set "${v}p" up
  $bin/stenotype --iface="$v" --dir="$d" --fleet_port=$((base + i)) --cert_path="$certs" \
    --disk_free_percentage=0 --max_directory_files=0 --blocks=16 --aiops=8 -v 2> "$work/sensor$i.log" &
  pids+=($!)
done
for i in $(seq 0 $((n - 1))); do
  for _ in $(seq 100); do grep -q "fleet server: listening" "$work/sensor$i.log" && break; sleep 0.2; done
done
q='net 0.0.0.0/0'
# run K: "wall_s rss_kb bytes" of one fleet query to K sensors.
run() {
  local k=$1 args=() out=$work/out.pcap
  for i in $(seq 0 $((k - 1))); do args+=("--sensor=127.0.0.1:$((base + i))"); done
  /usr/bin/time -f '%e %M %U %S' -o "$work/time" $bin/stenoread -q --cert_path="$certs" "${args[@]}" "$q" -w "$out"
  echo "$(awk '{print $1, $2, $3 + $4}' "$work/time") $(stat -c %s "$out")"
}
local_run() {
  /usr/bin/time -f '%e %M %U %S' -o "$work/time" $bin/stenoread -q --dir="$work/data0" "$q" -w "$work/out.pcap"
  echo "$(awk '{print $1, $2, $3 + $4}' "$work/time") $(stat -c %s "$work/out.pcap")"
}
best() { # best of 3 by wall time, after a warm-up
  "$@" >/dev/null
  for _ in 1 2 3; do "$@"; done | sort -n | head -1
}
echo "load: $(uptime)"
printf '%-22s %8s %10s %10s %8s %14s\n' case wall_s MB/s answer_MB RSS_MB client_cpu_s
row() { # NAME "wall rss cpu bytes"
  local w m c b
  read -r w m c b <<< "$2"
  printf '%-22s %8s %10.1f %10.1f %8.1f %14s\n' "$1" "$w" "$(echo "$b / 1048576 / $w" | bc -l)" \
    "$(echo "$b / 1048576" | bc -l)" "$(echo "$m / 1024" | bc -l)" "$c"
}
row "local, 1 directory" "$(best local_run)"
for k in 3 10; do
  row "fleet, $k sensors" "$(best run $k)"
done
