#!/usr/bin/env bash
# The query service against a local stenoread on the same data (docs/PERFORMANCE.md):
#   sudo bench/query_service_bench.sh [SIZE_MB] [WORKDIR]
# Builds a SIZE_MB (default 600) pcap of the benchmark traffic and imports it
# (shared with query_bench.sh), makes a CertPath with Debian's stenokeys,
# starts stenotype on an idle veth with --query_port over that directory
# (retention off), then times, warm page cache, best of 3 (5 for the
# selective query), wall time and the answering process's CPU time:
#   export:    stenoread --dir 'net 0.0.0.0/0' -w /dev/null (microsecond pcap)
#              vs curl (client certificate, TLS) POST /query -o /dev/null;
#              MB/s of answer, and the service's share of the local speed (goal >= 80%)
#   selective: 'host H and port P', the same two ways: seconds per query
# and stenotype's peak resident memory after the exports.
# Needs curl, bc, stenographer-common (stenokeys), jq.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-600}
work=${2:-/tmp/stenotype-query-bench-$size}
bin=build
[[ $(id -u) == 0 ]] || { echo "query_service_bench.sh: run as root (veth pair, port, stenokeys)" >&2; exit 2; }
mkdir -p "$work"
[[ -f $work/all.pcap ]] || $bin/bench/make_pcap "$work/all.pcap" "$size" imix >/dev/null
[[ -d $work/data ]] || $bin/stenoimport --dir="$work/data" "$work/all.pcap" 2>/dev/null
host=192.168.0.77 port=443
qport=$((30000 + $$ % 20000))
certs=$work/certs config=$work/steno.config
cat > "$config" <<JSON
{ "Threads": [ { "PacketsDirectory": "/nonexistent/p", "IndexDirectory": "/nonexistent/i" } ],
  "StenotypePath": "/bin/false", "Flags": [], "Port": $qport, "Host": "127.0.0.1", "CertPath": "$certs" }
JSON
[[ -f $certs/server_key.pem ]] || STENOGRAPHER_CONFIG=$config /usr/sbin/stenokeys root root >/dev/null 2>&1
# stenotype needs an interface: an idle veth pair of our own.
veth=pqu$$
ip link add "${veth}a" type veth peer name "${veth}b"
ip link set "${veth}a" up
ip link set "${veth}b" up
chown -R nobody: "$work/data"
$bin/stenotype --iface="${veth}a" --dir="$work/data" --query_port=$qport --cert_path="$certs" \
  --disk_free_percentage=0 --max_directory_files=0 --blocks=16 --aiops=16 --filesize_mb=16 -v 2> "$work/stenotype.log" &
steno=$!
cleanup() { kill "$steno" 2>/dev/null; wait "$steno" 2>/dev/null || true; ip link del "${veth}a" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 50); do grep -q "query service: listening" "$work/stenotype.log" && break; sleep 0.2; done
curl_q() { curl --silent --show-error --cert "$certs/client_cert.pem" --key "$certs/client_key.pem" \
             --cacert "$certs/ca_cert.pem" -d "$1" "https://127.0.0.1:$qport/query" -o "${2:-/dev/null}"; }
local_q() { $bin/stenoread -q --dir="$work/data" --format=pcap-us "$1" -w "${2:-/dev/null}"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system CPU, 1/100 s
# best N CMD...: "wall cpu", each the best of N runs (warm cache); cpu is the
# answering process's: stenoread's own, or the service's (stenotype's).
best() {
  local n=$1 bw=999999 bc=999999; shift
  "$@" >/dev/null 2>&1 # warm-up
  for _ in $(seq "$n"); do
    local s e c0 c1 cpu
    if [[ $1 == curl_q ]]; then
      c0=$(ticks "$steno"); s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); c1=$(ticks "$steno")
      cpu=$(echo "($c1 - $c0) / 100" | bc -l)
    else
      s=$(date +%s.%N)
      cpu=$( { TIMEFORMAT='%U %S'; time "$@" >/dev/null 2>&1; } 2>&1 | awk '{print $1 + $2}')
      e=$(date +%s.%N)
    fi
    bw=$(echo "$e - $s" | bc -l | awk -v b="$bw" '{ print ($1 < b) ? $1 : b }')
    bc=$(echo "$cpu" | awk -v b="$bc" '{ print ($1 < b) ? $1 : b }')
  done
  echo "$bw $bc"
}
# The two answers are the same bytes (both microsecond pcap).
curl_q "host $host and port $port" "$work/svc.pcap"
local_q "host $host and port $port" "$work/local.pcap"
cmp -s "$work/svc.pcap" "$work/local.pcap" || echo "WARNING: the service's answer differs from stenoread's"
bytes=$(curl_q "net 0.0.0.0/0" /dev/stdout | wc -c)
mb=$(echo "$bytes / 1048576" | bc -l)
read -r ls lc < <(best 3 local_q "net 0.0.0.0/0")
read -r ss sc < <(best 3 curl_q "net 0.0.0.0/0")
read -r lq lqc < <(best 5 local_q "host $host and port $port")
read -r sq sqc < <(best 5 curl_q "host $host and port $port")
n=$($bin/stenoread -q --dir="$work/data" "host $host and port $port" | tcpdump -nr - 2>/dev/null | wc -l)
rss=$(awk '/VmHWM/ {print $2}' "/proc/$steno/status")
if [[ ${PERF:-0} == 1 ]]; then # where the service's CPU goes during one export
  perf record -q -g -o "$work/perf.data" -p "$steno" -- sleep 3 >/dev/null 2>&1 & pp=$!
  sleep 0.2; curl_q "net 0.0.0.0/0"; wait $pp || true
  perf report -q -i "$work/perf.data" --no-children --sort dso,symbol 2>/dev/null | grep -v '^$' | head -25
  echo
fi
# On a machine of its own the service's speed is bounded by its CPU per
# answer (curl decrypts on another core): the CPU ratio is the figure that
# survives a machine shared with other work; wall times are shown too.
echo "| | local stenoread | query service (TLS, curl) | service / local |"
echo "| --- | --- | --- | --- |"
printf "| export 'net 0.0.0.0/0', %.0f MiB answer: wall | %.2f s = %.0f MiB/s | %.2f s = %.0f MiB/s | %.0f%% |\n" \
  "$mb" "$ls" "$(echo "$mb / $ls" | bc -l)" "$ss" "$(echo "$mb / $ss" | bc -l)" "$(echo "100 * $ls / $ss" | bc -l)"
printf "| export: CPU of the answering process | %.2f s = %.0f MiB per CPU-s | %.2f s = %.0f MiB per CPU-s | %.0f%% |\n" \
  "$lc" "$(echo "$mb / $lc" | bc -l)" "$sc" "$(echo "$mb / $sc" | bc -l)" "$(echo "100 * $lc / $sc" | bc -l)"
printf "| selective 'host %s and port %s', %s packets: wall | %.3f s | %.3f s | +%.0f ms |\n" \
  "$host" "$port" "$n" "$lq" "$sq" "$(echo "1000 * ($sq - $lq)" | bc -l)"
echo
echo "stenotype's peak resident memory after the exports (VmHWM): $((rss / 1024)) MiB"
echo "data: $(( $(du -sb "$work/data/PKT0" | cut -f1) >> 20 )) MiB of packet files; $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
