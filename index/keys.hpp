// index/keys.hpp -- index keys: stenotype's type byte + the value in network
// byte order, so that keys of one type sort by value (CIDR ranges are
// contiguous key ranges).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace stenotype::index {

enum class key_type : std::uint8_t {
  meta = 0,     ///< version and time ranges (see docs/FILE_FORMAT.md)
  protocol = 1, ///< 1 byte: IP protocol
  port = 2,     ///< 2 bytes: TCP/UDP port, source or destination
  vlan = 3,     ///< 2 bytes: VLAN id
  ipv4 = 4,     ///< 4 bytes: source or destination address
  mpls = 5,     ///< 4 bytes: MPLS label
  ipv6 = 6,     ///< 16 bytes: source or destination address
};

/// A key of at most 17 bytes, built without allocating.
struct index_key {
  std::uint8_t bytes[17];
  std::uint8_t size = 0;

  std::string_view view() const { return {reinterpret_cast<const char*>(bytes), size}; }
  std::string str() const { return std::string(view()); }
};

inline index_key make_key(key_type t, const std::uint8_t* value, std::size_t n) {
  index_key k;
  k.bytes[0] = static_cast<std::uint8_t>(t);
  std::memcpy(k.bytes + 1, value, n);
  k.size = static_cast<std::uint8_t>(n + 1);
  return k;
}

inline index_key make_key_u16(key_type t, std::uint16_t v) {
  const std::uint8_t be[2] = {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
  return make_key(t, be, 2);
}

inline index_key make_key_u32(key_type t, std::uint32_t v) {
  const std::uint8_t be[4] = {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                              static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
  return make_key(t, be, 4);
}

inline index_key protocol_key(std::uint8_t proto) { return make_key(key_type::protocol, &proto, 1); }
inline index_key port_key(std::uint16_t port) { return make_key_u16(key_type::port, port); }
inline index_key vlan_key(std::uint16_t vlan) { return make_key_u16(key_type::vlan, vlan); }
inline index_key mpls_key(std::uint32_t label) { return make_key_u32(key_type::mpls, label); }
/// `addr`: 4 bytes, network order.
inline index_key ipv4_key(const std::uint8_t* addr) { return make_key(key_type::ipv4, addr, 4); }
/// `addr`: 16 bytes, network order.
inline index_key ipv6_key(const std::uint8_t* addr) { return make_key(key_type::ipv6, addr, 16); }

// Metadata keys (type 0).
inline constexpr std::string_view version_key{"\0", 1};
inline constexpr std::string_view file_meta_key{"\0file", 5};
inline constexpr std::string_view block_meta_key{"\0blocks", 7};

/// Current index format (value of version_key, 4 bytes big-endian).
inline constexpr std::uint32_t format_version = 2;

/// Positions are stored shifted right by this: the kernel starts every packet
/// header in a TPACKET_V3 block at a multiple of 8 (V3_ALIGNMENT in
/// af_packet.c), and blocks at multiples of the page size.
inline constexpr unsigned position_shift = 3;

} // namespace stenotype::index
