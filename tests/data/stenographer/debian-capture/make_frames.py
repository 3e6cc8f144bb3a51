# Sends a fixed set of Ethernet frames out of an interface (AF_PACKET), for
# capturing them with Google's stenotype (see README.md here): plain
# IPv4/IPv6/TCP/UDP/ICMP, IPv6 extension headers and a first fragment, MPLS
# stacks and an MPLS pseudowire. Usage: python3 make_frames.py IFACE [ROUNDS]
import socket, struct, sys, time

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def ip4(src, dst, proto, payload, ihl=5, frag=0):
    opts = b'\x01' * ((ihl - 5) * 4)
    h = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, 4 * ihl + len(payload), 1, frag, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst)) + opts
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload

def ip6(src, dst, nxt, payload):
    return struct.pack('!IHBB16s16s', 0x60000000, len(payload), nxt, 64,
                       socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)) + payload

def udp(sp, dp, data=b'hello'):
    return struct.pack('!HHHH', sp, dp, 8 + len(data), 0) + data

def tcp(sp, dp):
    return struct.pack('!HHIIBBHHH', sp, dp, 1, 0, 0x50, 0x02, 65535, 0, 0)

def icmp():
    return struct.pack('!BBHHH', 8, 0, 0, 1, 1) + b'ping'

def eth(t, payload, dst=b'\x02\x00\x00\x00\x00\x01', src=b'\x02\x00\x00\x00\x00\x02'):
    return dst + src + struct.pack('!H', t) + payload

def mpls(labels, payload):
    out = b''
    for i, l in enumerate(labels):
        bos = 1 if i == len(labels) - 1 else 0
        out += struct.pack('!I', (l << 12) | (bos << 8) | 64)
    return out + payload

frames = [
    eth(0x0800, ip4('10.231.0.2', '10.231.0.1', 17, udp(5000, 53))),
    eth(0x0800, ip4('10.231.0.2', '192.0.2.7', 6, tcp(40000, 443))),
    eth(0x0800, ip4('10.231.0.2', '198.51.100.9', 1, icmp())),
    eth(0x0800, ip4('10.231.0.2', '10.231.0.1', 17, udp(7777, 7777))),           # equal ports
    eth(0x0800, ip4('10.231.0.3', '10.231.0.1', 6, tcp(1234, 80), ihl=6)),       # IPv4 options
    eth(0x86dd, ip6('2001:db8::2', '2001:db8::1', 17, udp(5001, 123))),
    eth(0x86dd, ip6('2001:db8::2', '2001:db8::9', 0,                               # hop-by-hop, then TCP
                    struct.pack('!BB6s', 6, 0, b'\x01\x04\0\0\0\0') + tcp(50000, 22))),
    eth(0x86dd, ip6('2001:db8::3', '2001:db8::1', 44,                              # first fragment, UDP
                    struct.pack('!BBHI', 17, 0, 0x0001, 7) + udp(6000, 514))),
    eth(0x8847, mpls([16, 29], ip4('10.99.0.1', '10.99.0.2', 17, udp(1000, 2000)))),
    eth(0x8847, mpls([100], b'\0\0\0\0' + eth(0x0800, ip4('172.16.0.1', '172.16.0.2', 6, tcp(3000, 8080))))),
    eth(0x8847, mpls([29, 30, 31], ip6('2001:db8:1::1', '2001:db8:1::2', 58, icmp()))),
    eth(0x0806, b'\x00\x01\x08\x00\x06\x04\x00\x01' + b'\0' * 20),                 # ARP: no keys
]

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 1):
    for f in frames:
        s.send(f)
