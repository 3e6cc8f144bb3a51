// index/flows.hpp -- what the index builder keeps per flow.
//
// Packets of one flow share every index key (addresses, protocol, ports,
// VLAN ids, MPLS labels), so the builder maps each packet to its flow once
// and appends the packet's ordinal to that flow's list; the keys are looked
// up once per flow, not once per packet and key, and the key -> positions
// lists are made from the flows' lists when an index (or a part) is written.
#pragma once

#include <cstdint>
#include <cstring>

namespace stenotype::index {

/// A packet's flow: everything its index keys are made of, in 20 bytes.
/// IPv4 addresses are stored as they are; IPv6 addresses (and a VLAN/MPLS
/// stack) by the id of their interned value, so the key stays small and the
/// common IPv4 flow compares in one memcmp of 20 bytes.
struct flow_key {
  std::uint32_t src = 0, dst = 0;     ///< IPv4 address (network order) or IPv6 address id
  std::uint16_t src_port = 0, dst_port = 0;
  std::uint8_t protocol = 0;
  std::uint8_t flags = 0;             ///< has_* bits below
  std::uint16_t pad = 0;
  std::uint32_t tags = 0;             ///< VLAN/MPLS stack id, 0: none

  static constexpr std::uint8_t ipv4 = 1, ipv6 = 2, has_protocol = 4, has_ports = 8;

  bool operator==(const flow_key& o) const { return std::memcmp(this, &o, sizeof *this) == 0; }
};
static_assert(sizeof(flow_key) == 20);

/// The hash of a key whose bytes, read as three little-endian words, are
/// a, b, c (hash_flow). The builder hashes the words it builds a key from,
/// in registers: a key just stored field by field and read back as words
/// would wait for its stores (no store forwarding from narrower stores).
inline std::uint32_t hash_flow_words(std::uint64_t a, std::uint64_t b, std::uint32_t c) {
  std::uint64_t h = (a ^ 0x9e3779b97f4a7c15ull) * 0xff51afd7ed558ccdull;
  h ^= (b + (h >> 29)) * 0xc4ceb9fe1a85ec53ull;
  h ^= (c + (h >> 31)) * 0x9e3779b97f4a7c15ull;
  return static_cast<std::uint32_t>(h >> 32);
}

inline std::uint32_t hash_flow(const flow_key& k) {
  std::uint64_t a, b;
  std::uint32_t c;
  std::memcpy(&a, &k, 8);
  std::memcpy(&b, reinterpret_cast<const char*>(&k) + 8, 8);
  std::memcpy(&c, reinterpret_cast<const char*>(&k) + 16, 4);
  return hash_flow_words(a, b, c);
}

/// A flow's packets: ordinals (the packet's number in the builder, from 0)
/// as varint deltas in a chain of chunks (index_builder). Its keys' ids are
/// looked up from `key` when the index is written.
struct flow_record {
  flow_key key;
  std::uint32_t head = 0, tail = 0; ///< first and last chunk of its ordinal list
  std::uint32_t first = 0, last = 0; ///< first and last ordinal appended
  std::uint32_t count = 0;          ///< packets
  std::uint8_t tail_used = 0;       ///< bytes used in the tail chunk
  std::uint8_t pad[3] = {};
};
static_assert(sizeof(flow_record) == 44);

} // namespace stenotype::index
