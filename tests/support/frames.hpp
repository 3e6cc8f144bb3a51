// tests/support/frames.hpp -- crafting frames layer by layer, for parser,
// index and query tests: Ethernet, VLAN tags, MPLS labels, IPv4/IPv6 (with
// extension headers and fragments), TCP/UDP.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace stenotype::test {

class frame_builder {
public:
  frame_builder() { bytes_.assign({2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}); }

  frame_builder& vlan(std::uint16_t id, std::uint16_t tpid = 0x8100) {
    pending_.push_back({tpid, static_cast<std::uint16_t>(id & 0xfff)});
    return *this;
  }
  frame_builder& mpls(std::uint32_t label) {
    labels_.push_back(label);
    return *this;
  }
  /// After the MPLS stack: a pseudowire control word, then an inner Ethernet
  /// frame (the rest of the builder's calls describe the inner frame).
  frame_builder& pseudowire() {
    flush_link(0x8847);
    for (std::size_t i = 0; i < 4; ++i)
      bytes_.push_back(0);
    const std::uint8_t mac[12] = {2, 0, 0, 0, 0, 4, 2, 0, 0, 0, 0, 3};
    bytes_.insert(bytes_.end(), mac, mac + 12);
    link_done_ = false;
    return *this;
  }
  frame_builder& ipv4(std::array<std::uint8_t, 4> src, std::array<std::uint8_t, 4> dst,
                      std::uint8_t proto, std::uint16_t frag_offset = 0, int options_words = 0) {
    flush_link(0x0800);
    ip_start_ = bytes_.size();
    const std::uint8_t ihl = static_cast<std::uint8_t>(5 + options_words);
    push({static_cast<std::uint8_t>(0x40 | ihl), 0, 0, 0, 0, 1,
          static_cast<std::uint8_t>(frag_offset >> 8), static_cast<std::uint8_t>(frag_offset), 64,
          proto, 0, 0});
    push(src.data(), 4);
    push(dst.data(), 4);
    for (int i = 0; i < options_words * 4; ++i)
      bytes_.push_back(1); // NOP options
    return *this;
  }
  frame_builder& ipv6(std::array<std::uint8_t, 16> src, std::array<std::uint8_t, 16> dst,
                      std::uint8_t next_header) {
    flush_link(0x86dd);
    ip_start_ = bytes_.size();
    push({0x60, 0, 0, 0, 0, 0, next_header, 64});
    push(src.data(), 16);
    push(dst.data(), 16);
    return *this;
  }
  /// An IPv6 extension header of 8 bytes announcing `next`.
  frame_builder& ipv6_ext(std::uint8_t next) {
    push({next, 0, 0, 0, 0, 0, 0, 0});
    return *this;
  }
  frame_builder& ipv6_fragment(std::uint8_t next, std::uint16_t offset_units) {
    const auto v = static_cast<std::uint16_t>(offset_units << 3);
    push({next, 0, static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v), 0, 0, 0, 1});
    return *this;
  }
  frame_builder& ports(std::uint16_t src, std::uint16_t dst) {
    push({static_cast<std::uint8_t>(src >> 8), static_cast<std::uint8_t>(src),
          static_cast<std::uint8_t>(dst >> 8), static_cast<std::uint8_t>(dst)});
    for (int i = 0; i < 16; ++i)
      bytes_.push_back(0);
    return *this;
  }
  frame_builder& payload(std::size_t n, std::uint8_t fill = 0xab) {
    if (!link_done_)
      flush_link(0x88b5);
    bytes_.insert(bytes_.end(), n, fill);
    return *this;
  }
  std::vector<std::uint8_t> build() {
    if (!link_done_)
      flush_link(0x88b5);
    auto out = bytes_;
    if (out.size() < 60)
      out.resize(60, 0);
    return out;
  }

private:
  struct tag {
    std::uint16_t tpid, tci;
  };
  void push(std::initializer_list<std::uint8_t> b) { bytes_.insert(bytes_.end(), b); }
  void push(const std::uint8_t* p, std::size_t n) { bytes_.insert(bytes_.end(), p, p + n); }
  void push16(std::uint16_t v) { push({static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)}); }
  // Writes the ethertype chain (tags, then MPLS or `inner`).
  void flush_link(std::uint16_t inner) {
    if (link_done_)
      return;
    for (const auto& t : pending_) {
      push16(t.tpid);
      push16(t.tci);
    }
    pending_.clear();
    if (!labels_.empty()) {
      push16(0x8847);
      for (std::size_t i = 0; i < labels_.size(); ++i) {
        const std::uint32_t e = labels_[i] << 12 | (i + 1 == labels_.size() ? 0x100u : 0u) | 64u;
        push({static_cast<std::uint8_t>(e >> 24), static_cast<std::uint8_t>(e >> 16),
              static_cast<std::uint8_t>(e >> 8), static_cast<std::uint8_t>(e)});
      }
      labels_.clear();
    } else {
      push16(inner);
    }
    link_done_ = true;
  }

  std::vector<std::uint8_t> bytes_;
  std::vector<tag> pending_;
  std::vector<std::uint32_t> labels_;
  std::size_t ip_start_ = 0;
  bool link_done_ = false;
};

inline std::array<std::uint8_t, 16> v6(std::uint8_t last, std::uint8_t first = 0x20) {
  std::array<std::uint8_t, 16> a{};
  a[0] = first;
  a[1] = 0x01;
  a[2] = 0x0d;
  a[3] = 0xb8;
  a[15] = last;
  return a;
}

} // namespace stenotype::test
