#!/usr/bin/env python3
"""Send-to-queryable latency of single packets (bench/fresh_bench.sh).

Run inside the sender's network namespace: sends one UDP probe at a time
(10.66.0.1 -> 10.66.0.2, a source port of its own) out of IFACE, then runs
stenoread over DIR for exactly that packet until it is found, and records
the time from the send to the end of the first stenoread that returned it.
Probes continue until at least N were made and STOP_FILE exists (or, without
a stop file, after N). Prints one latency in seconds per line to OUT.
"""
import os, random, socket, struct, subprocess, sys, time

iface, data_dir, stenoread, n, out = sys.argv[1:6]
stop_file = sys.argv[6] if len(sys.argv) > 6 else ""
n = int(n)

def checksum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff

def probe_frame(port):
    payload = b"fresh-probe" + struct.pack("!I", port) + bytes(32)
    udp = struct.pack("!HHHH", port, 9, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), port & 0xffff, 0, 64, 17, 0,
                     bytes([10, 66, 0, 1]), bytes([10, 66, 0, 2]))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return b"\xff" * 6 + b"\x02\x00\x00\x00\x66\x01" + b"\x08\x00" + ip + udp

sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((iface, 0))
answer = "/tmp/fresh-probe-%d.pcap" % os.getpid()
latencies = []
log = open(os.environ["FRESH_PROBE_LOG"], "w") if os.environ.get("FRESH_PROBE_LOG") else None
i = 0
while i < n or (stop_file and not os.path.exists(stop_file)):
    port = 20000 + i % 40000
    i += 1
    query = "host 10.66.0.2 and port %d and after 2m ago" % port
    sock.send(probe_frame(port))
    sent = time.monotonic()
    found = None
    while time.monotonic() - sent < 30:
        t0 = time.monotonic()
        rc = subprocess.run([stenoread, "--dir=" + data_dir, query, "-w", answer],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if log:  # FRESH_PROBE_LOG: every stenoread of every probe, for looking into outliers
            log.write("%.3f probe %d rc %d took %.3f %s\n" % (time.time(), port, rc.returncode,
                      time.monotonic() - t0, rc.stderr.decode().strip().replace("\n", " | ")))
        if os.path.getsize(answer) > 24:  # more than the pcap header
            found = time.monotonic() - sent
            break
        time.sleep(0.02)
    latencies.append(found if found is not None else float("inf"))
    time.sleep(random.uniform(0.2, 0.5))  # probes fall anywhere in a block's life
os.unlink(answer)
with open(out, "w") as f:
    for l in latencies:
        f.write("%.3f\n" % l)
