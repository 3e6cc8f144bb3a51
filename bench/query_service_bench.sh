#!/usr/bin/env bash
# The query service against a local stenoread on the same data (docs/PERFORMANCE.md):
#   sudo bench/query_service_bench.sh [SIZE_MB] [WORKDIR]
# Builds a SIZE_MB (default 600) pcap of the benchmark traffic and imports it
# (shared with query_bench.sh), makes a CertPath with Debian's stenokeys,
# starts stenotype on an idle veth with --query_port over that directory
# (retention off), then times, warm page cache, best of 3 (5 for the
# selective query), wall time and the answering process's CPU time (and
# curl's, the client's: its decryption shares the machine):
#   export:    stenoread --dir 'net 0.0.0.0/0' -w /dev/null (microsecond pcap)
#              vs curl (client certificate, TLS) POST /query -o /dev/null;
#              MB/s of answer, and the service's share of the local speed (goal >= 80%)
#   selective: 'host H and port P', the same two ways: seconds per query
# and stenotype's peak resident memory after the exports.
# BASE=/path/to/stenotype also serves the same data (a hard-linked copy of
# the directory: each stenotype locks its own) from another binary, e.g.
# main's, and its figures join the table; the three are timed in
# alternating rounds (ROUNDS, default 3), so that they see the same load.
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
# stenotype needs an interface: an idle veth pair of our own per service.
start_service() { # BIN DIR PORT LOG VETH -> the service's pid in $started
  ip link add "${5}a" type veth peer name "${5}b"
  ip link set "${5}a" up
  ip link set "${5}b" up
  chown -R nobody: "$2"
  "$1" --iface="${5}a" --dir="$2" --query_port="$3" --cert_path="$certs" \
    --disk_free_percentage=0 --max_directory_files=0 --blocks=16 --aiops=16 --filesize_mb=16 -v 2> "$4" &
  started=$!
  for _ in $(seq 50); do grep -q "query service: listening" "$4" && break; sleep 0.2; done
}
veth=pqu$$ bveth=pqb$$ base_pid= steno=
cleanup() {
  for p in $steno $base_pid; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
  ip link del "${veth}a" 2>/dev/null || true; ip link del "${bveth}a" 2>/dev/null || true
  [[ -z ${BASE:-} ]] || rm -rf "$work/data-base"
}
trap cleanup EXIT
start_service $bin/stenotype "$work/data" $qport "$work/stenotype.log" $veth; steno=$started
if [[ -n ${BASE:-} ]]; then
  bport=$((qport + 1))
  rm -rf "$work/data-base"; cp -al "$work/data" "$work/data-base"
  start_service "$BASE" "$work/data-base" $bport "$work/stenotype-base.log" $bveth; base_pid=$started
fi
svc_port=$qport svc_pid=$steno
curl_q() { curl --silent --show-error --cert "$certs/client_cert.pem" --key "$certs/client_key.pem" \
             --cacert "$certs/ca_cert.pem" -d "$1" "https://127.0.0.1:$svc_port/query" -o "${2:-/dev/null}"; }
local_q() { $bin/stenoread -q --dir="$work/data" --format=pcap-us "$1" -w "${2:-/dev/null}"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system CPU, 1/100 s
# once CMD...: "wall cpu client" of one run; cpu is the answering
# process's: stenoread's own, or the service's (stenotype's, svc_pid);
# client is curl's CPU (its decryption), 0 for stenoread.
once() {
  local s e c0 c1 cpu client=0
  s=$(date +%s.%N)
  if [[ $1 == curl_q ]]; then
    c0=$(ticks "$svc_pid")
    client=$( { TIMEFORMAT='%U %S'; time "$@" >/dev/null 2>&1; } 2>&1 | awk '{print $1 + $2}')
    c1=$(ticks "$svc_pid")
    cpu=$(echo "($c1 - $c0) / 100" | bc -l)
  else
    cpu=$( { TIMEFORMAT='%U %S'; time "$@" >/dev/null 2>&1; } 2>&1 | awk '{print $1 + $2}')
  fi
  e=$(date +%s.%N)
  echo "$(echo "$e - $s" | bc -l) $cpu $client"
}
min3() { # two "wall cpu client" triples: the smaller of each
  awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" -v e="$5" -v f="$6" \
    'BEGIN { print (a < d ? a : d), (b < e ? b : e), (c < f ? c : f) }'; }
# rounds N QUERY: each way (local; service; base service) once per round,
# in turn, after a warm-up; the best wall and the best CPU of each over
# the rounds, in $L, $S and $B ("wall cpu").
rounds() {
  local n=$1 q=$2
  L="999999 999999 999999" S=$L B=$L
  local_q "$q" >/dev/null 2>&1; curl_q "$q" >/dev/null 2>&1
  [[ -n $base_pid ]] && { svc_port=$bport; curl_q "$q" >/dev/null 2>&1; svc_port=$qport; }
  for _ in $(seq "$n"); do
    L=$(min3 $L $(once local_q "$q"))
    svc_port=$qport svc_pid=$steno; S=$(min3 $S $(once curl_q "$q"))
    if [[ -n $base_pid ]]; then
      svc_port=$bport svc_pid=$base_pid; B=$(min3 $B $(once curl_q "$q")); svc_port=$qport svc_pid=$steno
    fi
  done
}
# The two answers are the same bytes (both microsecond pcap).
curl_q "host $host and port $port" "$work/svc.pcap"
local_q "host $host and port $port" "$work/local.pcap"
cmp -s "$work/svc.pcap" "$work/local.pcap" || echo "WARNING: the service's answer differs from stenoread's"
if [[ -n $base_pid ]]; then
  svc_port=$bport; curl_q "host $host and port $port" "$work/base.pcap"; svc_port=$qport
  cmp -s "$work/base.pcap" "$work/local.pcap" || echo "WARNING: BASE's answer differs from stenoread's"
fi
bytes=$(curl_q "net 0.0.0.0/0" /dev/stdout | wc -c)
mb=$(echo "$bytes / 1048576" | bc -l)
rounds "${ROUNDS:-3}" "net 0.0.0.0/0"
read -r ls lc _ <<< "$L"; read -r ss sc scc <<< "$S"; read -r bs bsc bcc <<< "$B"
rounds "$(( ${ROUNDS:-3} + 2 ))" "host $host and port $port"
read -r lq _ _ <<< "$L"; read -r sq _ _ <<< "$S"; read -r bq _ _ <<< "$B"
n=$($bin/stenoread -q --dir="$work/data" "host $host and port $port" | tcpdump -nr - 2>/dev/null | wc -l)
rss=$(awk '/VmHWM/ {print $2}' "/proc/$steno/status")
[[ -z $base_pid ]] || brss=$(awk '/VmHWM/ {print $2}' "/proc/$base_pid/status")
if [[ ${PERF:-0} == 1 ]]; then # where the service's CPU goes during one export
  perf record -q -g -o "$work/perf.data" -p "$steno" -- sleep 3 >/dev/null 2>&1 & pp=$!
  sleep 0.2; curl_q "net 0.0.0.0/0"; wait $pp || true
  perf report -q -i "$work/perf.data" --no-children --sort dso,symbol 2>/dev/null | grep -v '^$' | head -25
  echo
fi
# On a machine of its own the service's speed is bounded by its CPU per
# answer (curl decrypts on another core): the CPU ratio is the figure that
# survives a machine shared with other work; wall times are shown too.
printf "export 'net 0.0.0.0/0': %.0f MiB answer\n\n" "$mb"
echo "| | local stenoread | query service (TLS, curl) | service / local |"
echo "| --- | --- | --- | --- |"
row() { # NAME WALL CPU SELECTIVE_WALL CLIENT_CPU: the service's rows
  printf "| %s: export wall | %.2f s = %.0f MiB/s | %.2f s = %.0f MiB/s | %.0f%% |\n" \
    "$1" "$ls" "$(echo "$mb / $ls" | bc -l)" "$2" "$(echo "$mb / $2" | bc -l)" "$(echo "100 * $ls / $2" | bc -l)"
  printf "| %s: export CPU of the answering process | %.2f s = %.0f MiB per CPU-s | %.2f s = %.0f MiB per CPU-s | %.0f%% |\n" \
    "$1" "$lc" "$(echo "$mb / $lc" | bc -l)" "$3" "$(echo "$mb / $3" | bc -l)" "$(echo "100 * $lc / $3" | bc -l)"
  printf "| %s: export CPU of the client (curl: TLS decryption, socket reads) | | %.2f s | |\n" "$1" "$5"
  printf "| %s: selective 'host %s and port %s', %s packets: wall | %.3f s | %.3f s | +%.0f ms |\n" \
    "$1" "$host" "$port" "$n" "$lq" "$4" "$(echo "1000 * ($4 - $lq)" | bc -l)"
}
row "this build" "$ss" "$sc" "$sq" "$scc"
if [[ -n $base_pid ]]; then row "BASE ($BASE)" "$bs" "$bsc" "$bq" "$bcc"; fi
echo
echo "stenotype's peak resident memory after the exports (VmHWM): $((rss / 1024)) MiB${base_pid:+ (BASE: $((brss / 1024)) MiB)}"
echo "data: $(( $(du -sb "$work/data/PKT0" | cut -f1) >> 20 )) MiB of packet files; $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
