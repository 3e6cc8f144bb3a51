#!/usr/bin/env python3
"""Turns pcap files into fuzzer seeds: one file per frame (with a leading
selector byte, see tests/fuzz/packet_parser_fuzzer.cpp), TPACKET_V3 blocks
of up to 64 frames, laid out as the kernel does, and whole packet files of
4 KiB blocks, ours (with the block mark) and Google's, with the header that
tests/fuzz/packet_file_fuzzer.cpp expects.
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

def block(pkts, marked=False, size=0):
    """One block; `marked`: our layout, the block mark (16 bytes "STENOBLK",
    version 1, `size`) between the header and the packets."""
    body = bytearray()
    first = 64 if marked else 48
    offset = first
    for i, (sec, frac, frame, wirelen) in enumerate(pkts):
        mac = 82
        total = (mac + len(frame) + 7) & ~7
        nxt = 0 if i == len(pkts) - 1 else total
        hdr = struct.pack("<IIIIIIHHIIH", nxt, sec, frac, len(frame), max(wirelen, len(frame)),
                          1, mac, mac + 14, 0, 0, 0)
        hdr = hdr.ljust(mac, b"\0")
        body += (hdr + frame).ljust(total, b"\0")
        offset += total
    desc = struct.pack("<IIIIIIQIIII", 2, 48, 1, len(pkts), first, offset, 0,
                       pkts[0][0], pkts[0][1], pkts[-1][0], pkts[-1][1])
    mark = b"STENOBLK" + struct.pack("<II", 1, size) if marked else b""
    return desc + mark + bytes(body)

def packet_file(pkts, size, marked):
    """Blocks of `size` bytes holding the frames that fit, in order."""
    out, cur, used = bytearray(), [], 64
    for p in pkts:
        total = (82 + len(p[2]) + 7) & ~7
        if 64 + total > size:
            continue
        if used + total > size:
            out += block(cur, marked, size).ljust(size, b"\0")
            cur, used = [], 64
        cur.append(p)
        used += total
    if cur:
        out += block(cur, marked, size).ljust(size, b"\0")
    return bytes(out)

def file_seeds(out, name, pkts):
    """packet_file_fuzzer inputs: flags, [summary], [positions], whole-block mask, file."""
    for marked in (True, False):
        f = packet_file(pkts[:40], 4096, marked)
        if not f:
            return
        blocks = len(f) // 4096
        tag = "%s-%s" % (name, "ours" if marked else "google")
        seeds = {
            "scan": struct.pack("<BB", 4, 0) + f,  # no index, --blocksize_kb=4
            "index": struct.pack("<BIIB", 1, 4096, blocks, 0) + f,
            "positions": struct.pack("<BIIBIIB", 3, 4096, blocks, 2, 64, 4096 + 64, 1) + f,
        }
        for kind, data in seeds.items():
            with open(os.path.join(out, "files", "%s-%s" % (tag, kind)), "wb") as g:
                g.write(data)

def main():
    corpus, out, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    n = 0
    for name in sorted(os.listdir(corpus)):
        pkts = list(frames(os.path.join(corpus, name)))
        if not pkts:
            continue
        if len(os.listdir(os.path.join(out, "files"))) < 300:
            file_seeds(out, name, pkts)
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
