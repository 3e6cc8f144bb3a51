#!/usr/bin/env bash
# The query service against a local stenoread on the same data (docs/PERFORMANCE.md):
#   sudo bench/query_service_bench.sh [SIZE_MB] [WORKDIR]
# Builds a SIZE_MB (default 600) pcap of the benchmark traffic and imports it
# (shared with query_bench.sh), makes a CertPath with Debian's stenokeys,
# starts stenotype on an idle veth with --query_port over that directory
# (retention off), then times, warm page cache, best of 3 (5 for the
# selective query):
#   export:    stenoread --dir 'net 0.0.0.0/0' -w /dev/null
#              vs curl (client certificate, TLS) POST /query -o /dev/null;
#              MB/s of answer, and the service's share of the local speed (goal >= 80%)
#   selective: 'host H and port P', the same two ways: seconds per query
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
veth=sqb$$
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
best() { # best of N wall seconds of "$@" (warm cache)
  local n=$1 b=999999; shift
  "$@" >/dev/null 2>&1 # warm-up
  for _ in $(seq "$n"); do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
    b=$(echo "$e - $s" | bc -l | awk -v b="$b" '{ print ($1 < b) ? $1 : b }')
  done
  echo "$b"
}
# The two answers are the same bytes (both microsecond pcap).
curl_q "host $host and port $port" "$work/svc.pcap"
local_q "host $host and port $port" "$work/local.pcap"
cmp -s "$work/svc.pcap" "$work/local.pcap" || echo "WARNING: the service's answer differs from stenoread's"
bytes=$(curl_q "net 0.0.0.0/0" /dev/stdout | wc -c)
mb=$(echo "$bytes / 1048576" | bc -l)
ls=$(best 3 local_q "net 0.0.0.0/0")
ss=$(best 3 curl_q "net 0.0.0.0/0")
lq=$(best 5 local_q "host $host and port $port")
sq=$(best 5 curl_q "host $host and port $port")
n=$($bin/stenoread -q --dir="$work/data" "host $host and port $port" | tcpdump -nr - 2>/dev/null | wc -l)
# The service's threads run at nice 10 (they yield to the capture): on a
# busy machine that alone slows them. Measured again at nice 0, the code
# path alone.
for t in /proc/$steno/task/*; do
  [[ $(awk '{print $19}' "$t/stat") == 10 ]] && renice -n 0 -p "$(basename "$t")" >/dev/null
done
ss0=$(best 3 curl_q "net 0.0.0.0/0")
sq0=$(best 5 curl_q "host $host and port $port")
echo "| | local stenoread | query service (TLS, curl), nice 10 as deployed | service / local | service at nice 0 | service / local |"
echo "| --- | --- | --- | --- | --- | --- |"
printf "| export 'net 0.0.0.0/0', %.0f MiB answer | %.2f s = %.0f MiB/s | %.2f s = %.0f MiB/s | %.0f%% | %.2f s = %.0f MiB/s | %.0f%% |\n" \
  "$mb" "$ls" "$(echo "$mb / $ls" | bc -l)" "$ss" "$(echo "$mb / $ss" | bc -l)" "$(echo "100 * $ls / $ss" | bc -l)" \
  "$ss0" "$(echo "$mb / $ss0" | bc -l)" "$(echo "100 * $ls / $ss0" | bc -l)"
printf "| selective 'host %s and port %s', %s packets | %.3f s | %.3f s | +%.0f ms | %.3f s | +%.0f ms |\n" \
  "$host" "$port" "$n" "$lq" "$sq" "$(echo "1000 * ($sq - $lq)" | bc -l)" "$sq0" "$(echo "1000 * ($sq0 - $lq)" | bc -l)"
echo
echo "data: $(( $(du -sb "$work/data/PKT0" | cut -f1) >> 20 )) MiB of packet files; $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
