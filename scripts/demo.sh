#!/usr/bin/env bash
# The demo: installs and builds (scripts/setup.sh), makes a throwaway veth pair
# with one end in a network namespace, captures it with stenotype while known
# traffic (ping, UDP, an HTTP fetch) crosses it, then shows what was written
# and answers a query from the indexes with stenoread.
# Run as root. Leaves the capture in /tmp/stenotype-demo for a look.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null

ns=steno-demo cap=steno-demo0 peer=steno-demo1 dir=/tmp/stenotype-demo
here=198.51.100.1 there=198.51.100.2 # TEST-NET-2, only on our own veth pair
cleanup() {
  [[ -n "${steno:-}" ]] && kill -INT "$steno" 2>/dev/null && wait "$steno" 2>/dev/null || true
  [[ -n "${httpd:-}" ]] && kill "$httpd" 2>/dev/null || true
  ip link del "$cap" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
cleanup
rm -rf "$dir"

ip netns add "$ns"
ip link add "$cap" type veth peer name "$peer"
ip link set "$peer" netns "$ns"
ip addr add "$here/24" dev "$cap"
ip link set "$cap" up
ip netns exec "$ns" ip addr add "$there/24" dev "$peer"
ip netns exec "$ns" ip link set "$peer" up
ip netns exec "$ns" ip link set lo up

echo "== capturing $cap into $dir"
build/stenotype --iface="$cap" --dir="$dir" --blocks=64 --aiops=16 \
  --blockage_sec=1 --fileage_sec=2 -v &
steno=$!
sleep 1

echo "== sending traffic from namespace $ns"
python3 -m http.server 8080 --bind "$here" --directory docs >/dev/null 2>&1 &
httpd=$!
sleep 0.5
ip netns exec "$ns" ping -q -c 20 -i 0.05 "$here" >/dev/null
ip netns exec "$ns" python3 - "$here" <<'PY'
import socket, sys, urllib.request
host = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(50):
    s.sendto(b"stenotype demo datagram %d" % i, (host, 40000))
body = urllib.request.urlopen("http://%s:8080/" % host, timeout=5).read()
print("   fetched %d bytes over HTTP" % len(body))
PY
sleep 2

echo "== stopping (SIGINT: flush, rename, exit 0)"
kill -INT "$steno"
wait "$steno"
steno=

echo "== files written"
find "$dir" -type f -printf '   %p  %s bytes\n' | sort
echo "== the packets, read back as pcap (build/stenocat -w $dir/all.pcap; tcpdump -r)"
build/stenocat -w "$dir/all.pcap" "$dir"/PKT0/*
tcpdump -nr "$dir/all.pcap" 2>/dev/null > "$dir/all.txt"
head -n 12 "$dir/all.txt"
echo "   ..."
echo "== totals by protocol"
awk '{ if ($0 ~ /ICMP echo/) i++; else if ($0 ~ /\.40000: UDP/) u++; else if ($0 ~ /8080/) t++; else o++ }
       END { printf "   ICMP %d, UDP %d, TCP:8080 %d, other %d\n", i, u, t, o }' "$dir/all.txt"
echo "== a query from the indexes: stenoread 'host $there and udp and port 40000'"
build/stenoread --dir="$dir" "host $there and udp and port 40000" -w "$dir/query.pcap"
tcpdump -nr "$dir/query.pcap" 2>/dev/null | head -n 3
echo "   ... $(tcpdump -nr "$dir/query.pcap" 2>/dev/null | wc -l) packets (50 were sent)"
