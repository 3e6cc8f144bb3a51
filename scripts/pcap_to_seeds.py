#!/usr/bin/env python3
"""Turns pcap files into fuzzer seeds: one file per frame (with a leading
selector byte, see tests/fuzz/packet_parser_fuzzer.cpp) and TPACKET_V3 blocks
of up to 64 frames, laid out as the kernel does.
usage: pcap_to_seeds.py CORPUS_DIR SEED_DIR MAX_FRAMES"""
import os, struct, sys

def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        return
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        if caplen > 262144 or off + caplen > len(data):
            return
        yield sec, frac, data[off:off + caplen], wirelen
        off += caplen

def block(pkts):
    body = bytearray()
    offset = 48
    for i, (sec, frac, frame, wirelen) in enumerate(pkts):
        mac = 82
        total = (mac + len(frame) + 7) & ~7
        nxt = 0 if i == len(pkts) - 1 else total
        hdr = struct.pack("<IIIIIIHHIIH", nxt, sec, frac, len(frame), max(wirelen, len(frame)),
                          1, mac, mac + 14, 0, 0, 0)
        hdr = hdr.ljust(mac, b"\0")
        body += (hdr + frame).ljust(total, b"\0")
        offset += total
    desc = struct.pack("<IIIIIIQIIII", 2, 48, 1, len(pkts), 48, offset, 0,
                       pkts[0][0], pkts[0][1], pkts[-1][0], pkts[-1][1])
    return desc + bytes(body)

def main():
    corpus, out, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    n = 0
    for name in sorted(os.listdir(corpus)):
        pkts = list(frames(os.path.join(corpus, name)))
        if not pkts:
            continue
        for i in range(0, len(pkts), 64):
            with open(os.path.join(out, "blocks", "%s-%d" % (name, i)), "wb") as f:
                f.write(block(pkts[i:i + 64]))
        for _, _, frame, _ in pkts[:20]:
            with open(os.path.join(out, "frames", "%d" % n), "wb") as f:
                f.write(b"\0" + frame)
            n += 1
            if n >= limit:
                return

main()
