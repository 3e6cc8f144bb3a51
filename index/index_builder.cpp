#include "index/index_builder.hpp"

#include <algorithm>
#include <cstring>

namespace stenotype::index {
namespace {

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<char>(v >> (8 * i)));
}

// The file_meta record (keys.hpp): the same 32 bytes for a full index and a part.
std::string_view file_meta_value(const file_summary& s, std::string& value) {
  value.clear();
  put_be(value, s.packets, 8);
  put_be(value, s.first_ns, 8);
  put_be(value, s.last_ns, 8);
  put_be(value, s.blocks, 4);
  put_be(value, s.block_size, 4);
  return value;
}

} // namespace

index_builder::index_builder(std::uint32_t block_size) : block_size_(block_size) { reset(); }

void index_builder::reset() {
  tails_.clear();
  heads_.clear();
  protocol_ids_.assign(256, 0);
  port_ids_.assign(65536, 0);
  vlan_ids_.assign(4096, 0);
  ipv4_ids_.clear();
  mpls_ids_.clear();
  ipv6_ids_.clear();
  pages_.clear();
  chunks_used_ = 1;
  blocks_.clear();
  summary_ = file_summary{};
  summary_.block_size = block_size_;
  part_ = 1;
  part_first_ = 0;
  part_starts_.clear();
  part_keys_.clear();
}

std::uint32_t index_builder::new_chunk() {
  const std::uint32_t n = chunks_used_++;
  if (n / chunks_per_page >= pages_.size())
    pages_.push_back(std::make_unique<chunk[]>(chunks_per_page));
  chunk_at(n).next = 0;
  return n;
}

void index_builder::append(std::uint32_t id, std::uint32_t slot) {
  posting_tail& pl = tails_[id - 1];
  if (!pl.empty && slot == pl.last)
    return; // same packet, same key twice (e.g. equal source and destination port)
  if (pl.part != part_)
    enter_part(id, pl);
  std::uint32_t v = pl.empty ? slot : slot - pl.last;
  pl.last = slot;
  pl.empty = false;
  std::uint8_t buf[5];
  int n = 0;
  do {
    std::uint8_t b = v & 0x7f;
    v >>= 7;
    buf[n++] = v ? (b | 0x80) : b;
  } while (v);
  for (int i = 0; i < n; ++i) {
    if (pl.tail_used == chunk_bytes) {
      const std::uint32_t c = new_chunk();
      chunk_at(pl.tail).next = c;
      pl.tail = c;
      pl.tail_used = 0;
    }
    chunk_at(pl.tail).data[pl.tail_used++] = buf[i];
  }
}

void index_builder::enter_part(std::uint32_t id, posting_tail& pl) {
  pl.part = part_;
  part_starts_[id - 1] = part_start{pl.tail, pl.tail_used, pl.empty, pl.last};
  part_keys_.push_back(id);
}

std::uint32_t index_builder::new_list(const index_key& k) {
  const std::uint32_t c = new_chunk();
  tails_.push_back(posting_tail{c, 0, 0, true, 0});
  heads_.push_back(posting_head{k, c});
  part_starts_.emplace_back();
  return static_cast<std::uint32_t>(tails_.size());
}

std::uint32_t index_builder::id_direct(std::vector<std::uint32_t>& table, std::size_t i,
                                       const index_key& k) {
  std::uint32_t& id = table[i];
  if (id == 0)
    id = new_list(k);
  return id;
}

template <class Table, class Key>
std::uint32_t index_builder::id_in(Table& t, const Key& value, const index_key& k) {
  const auto fresh = static_cast<std::uint32_t>(tails_.size() + 1);
  if (std::uint32_t id = t.find_or_insert(value, fresh))
    return id;
  return new_list(k);
}

void index_builder::note_blocks(std::uint32_t count) {
  if (blocks_.size() < count)
    blocks_.resize(count);
  summary_.blocks = std::max(summary_.blocks, count);
}

void index_builder::add(std::uint64_t position, std::uint32_t block, std::uint64_t ts_ns,
                        const packet_attributes& a) {
  const auto slot = static_cast<std::uint32_t>(position >> position_shift);
  note_blocks(block + 1);
  block_times& bt = blocks_[block];
  if (bt.packets++ == 0)
    bt.first_ns = bt.last_ns = ts_ns;
  bt.first_ns = std::min(bt.first_ns, ts_ns);
  bt.last_ns = std::max(bt.last_ns, ts_ns);
  if (summary_.packets++ == 0)
    summary_.first_ns = summary_.last_ns = ts_ns;
  summary_.first_ns = std::min(summary_.first_ns, ts_ns);
  summary_.last_ns = std::max(summary_.last_ns, ts_ns);

  for (int i = 0; i < a.vlan_count; ++i)
    append(id_direct(vlan_ids_, a.vlans[i], vlan_key(a.vlans[i])), slot);
  for (int i = 0; i < a.mpls_count; ++i)
    append(id_in(mpls_ids_, a.mpls[i], mpls_key(a.mpls[i])), slot);
  if (a.ip_version == 4) {
    std::uint32_t src, dst;
    std::memcpy(&src, a.src_ip, 4);
    std::memcpy(&dst, a.dst_ip, 4);
    append(id_in(ipv4_ids_, src, ipv4_key(a.src_ip)), slot);
    append(id_in(ipv4_ids_, dst, ipv4_key(a.dst_ip)), slot);
  } else if (a.ip_version == 6) {
    std::array<std::uint8_t, 16> src, dst;
    std::memcpy(src.data(), a.src_ip, 16);
    std::memcpy(dst.data(), a.dst_ip, 16);
    append(id_in(ipv6_ids_, src, ipv6_key(a.src_ip)), slot);
    append(id_in(ipv6_ids_, dst, ipv6_key(a.dst_ip)), slot);
  }
  if (a.has_protocol)
    append(id_direct(protocol_ids_, a.protocol, protocol_key(a.protocol)), slot);
  if (a.has_ports) {
    append(id_direct(port_ids_, a.src_port, port_key(a.src_port)), slot);
    append(id_direct(port_ids_, a.dst_port, port_key(a.dst_port)), slot);
  }
}

std::size_t index_builder::memory_bytes() const {
  return pages_.size() * chunks_per_page * sizeof(chunk)
         + tails_.capacity() * sizeof(posting_tail) + heads_.capacity() * sizeof(posting_head)
         + (protocol_ids_.capacity() + port_ids_.capacity() + vlan_ids_.capacity()) * 4
         + ipv4_ids_.memory_bytes() + mpls_ids_.memory_bytes() + ipv6_ids_.memory_bytes()
         + blocks_.capacity() * sizeof(block_times);
}

void index_builder::for_each_entry(
  const std::function<void(std::string_view, std::string_view)>& fn) const {
  std::string value;
  // Metadata first: "\0" < "\0blocks" < "\0file" < any other key.
  put_be(value, format_version, 4);
  fn(version_key, value);
  value.clear();
  for (const auto& b : blocks_) {
    put_be(value, b.first_ns, 8);
    put_be(value, b.last_ns, 8);
    put_be(value, b.packets, 4);
  }
  fn(block_meta_key, value);
  fn(file_meta_key, file_meta_value(summary_, value));

  std::vector<std::uint32_t> order(heads_.size());
  for (std::uint32_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return heads_[a].key.view() < heads_[b].key.view();
  });
  for (std::uint32_t i : order) {
    const posting_tail& pl = tails_[i];
    const posting_head& ph = heads_[i];
    value.clear();
    for (std::uint32_t c = ph.head; c != 0;) {
      const chunk& ch = chunk_at(c);
      const std::size_t used = c == pl.tail ? pl.tail_used : chunk_bytes;
      value.append(reinterpret_cast<const char*>(ch.data), used);
      c = c == pl.tail ? 0 : ch.next;
    }
    fn(ph.key.view(), value);
  }
}

} // namespace stenotype::index

namespace stenotype::index {
namespace {

void put_varint(std::string& out, std::uint64_t v) {
  do {
    const auto b = static_cast<std::uint8_t>(v & 0x7f);
    v >>= 7;
    out.push_back(static_cast<char>(v ? (b | 0x80) : b));
  } while (v);
}

} // namespace

void index_builder::start_part() {
  if (++part_ == 0) { // wrapped: no key may look as if it were in the new part
    for (auto& t : tails_)
      t.part = 0;
    part_ = 1;
  }
  part_keys_.clear();
  part_first_ = summary_.blocks;
}

void index_builder::for_each_part_entry(
  const std::function<void(std::string_view, std::string_view)>& fn) const {
  std::string value;
  put_be(value, format_version, 4);
  fn(version_key, value);
  file_summary part{0, 0, 0, summary_.blocks, block_size_};
  value.clear();
  for (std::uint32_t b = 0; b < blocks_.size(); ++b) {
    const block_times none{};
    const block_times& t = b < part_first_ ? none : blocks_[b];
    put_be(value, t.first_ns, 8);
    put_be(value, t.last_ns, 8);
    put_be(value, t.packets, 4);
    if (t.packets == 0)
      continue;
    part.first_ns = part.packets == 0 ? t.first_ns : std::min(part.first_ns, t.first_ns);
    part.last_ns = part.packets == 0 ? t.last_ns : std::max(part.last_ns, t.last_ns);
    part.packets += t.packets;
  }
  fn(block_meta_key, value);
  fn(file_meta_key, file_meta_value(part, value));

  // Sorted as contiguous copies of the keys: the part's keys are scattered
  // over heads_, and comparing through them missed the cache at every step.
  struct sort_entry {
    std::uint8_t bytes[17];
    std::uint8_t size;
    std::uint32_t id;
  };
  std::vector<sort_entry> order(part_keys_.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    const index_key& k = heads_[part_keys_[i] - 1].key;
    std::memcpy(order[i].bytes, k.bytes, sizeof k.bytes);
    order[i].size = k.size;
    order[i].id = part_keys_[i];
  }
  std::sort(order.begin(), order.end(), [](const sort_entry& a, const sort_entry& b) {
    const int c = std::memcmp(a.bytes, b.bytes, std::min(a.size, b.size));
    return c != 0 ? c < 0 : a.size < b.size;
  });
  for (const sort_entry& e : order) {
    const posting_tail& pl = tails_[e.id - 1];
    const part_start& ps = part_starts_[e.id - 1];
    // Walk the chunks from where the part began; the first varint is re-read
    // and stored whole, not as a delta from a position of an earlier part.
    std::uint32_t c = ps.chunk, at = ps.used;
    auto end_of = [&](std::uint32_t n) -> std::uint32_t { return n == pl.tail ? pl.tail_used : chunk_bytes; };
    std::uint64_t first = 0;
    for (int shift = 0;; shift += 7) {
      while (at == end_of(c)) { // (a key enters a part with an append: the varint is there)
        c = chunk_at(c).next;
        at = 0;
      }
      const std::uint8_t b = chunk_at(c).data[at++];
      first |= std::uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80))
        break;
    }
    value.clear();
    put_varint(value, ps.absolute ? first : ps.base + first);
    for (;;) {
      const chunk& ch = chunk_at(c);
      value.append(reinterpret_cast<const char*>(ch.data) + at, end_of(c) - at);
      if (c == pl.tail)
        break;
      c = ch.next;
      at = 0;
    }
    fn(std::string_view(reinterpret_cast<const char*>(e.bytes), e.size), value);
  }
}

} // namespace stenotype::index
