// index/index_builder.cpp -- see index_builder.hpp.
#include "index/index_builder.hpp"

#include <algorithm>
#include <cstring>
#include <bit>
#include <functional>
#include <stdexcept>

namespace stenotype::index {
namespace {

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<char>(v >> (8 * i)));
}

// The position lists' varints, written raw into room made beforehand (at
// most 5 bytes each): no size check per byte as a string's push_back does.
char* write_varint(char* p, std::uint32_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// The same, branch-free for values below 2^28 (position deltas nearly
// always are; their 1-2 byte lengths vary packet to packet, and the loop's
// mispredicted exits were the list making's cost). Stores 4 bytes: needs
// the same room of 5 bytes as write_varint.
inline char* put_varint(char* p, std::uint32_t v) {
  if constexpr (std::endian::native == std::endian::little) {
    if (v < (1u << 28)) [[likely]] {
      const std::uint32_t n = 1 + (v > 0x7f) + (v > 0x3fff) + (v > 0x1fffff); // bytes
      std::uint32_t x = (v & 0x7f) | ((v << 1) & 0x7f00) | ((v << 2) & 0x7f0000) | ((v << 3) & 0x7f000000);
      x |= 0x00808080u & ((1u << (8 * (n - 1))) - 1); // continuation bits on all but the last byte
      std::memcpy(p, &x, 4);
      return p + n;
    }
  }
  return write_varint(p, v);
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
  scratch_ = scratch{};
  blocks_.clear();
  summary_ = file_summary{};
  summary_.block_size = block_size_;
  part_first_ = 0;
  part_first_ord_ = 0;
  touched_.clear();
  last_slot_ = 0;
  clear_flows();
}

void index_builder::clear_flows() {
  slots_.clear();
  table_.clear(false);
  flows_.clear();
  chunks_.clear();
  chunks_.grow_one(); // chunk 0: none
  key_count_ = 0;
  protocol_ids_.assign(256, 0);
  port_ids_.assign(65536, 0);
  vlan_ids_.assign(4096, 0);
  ipv4_ids_.clear(false);
  mpls_ids_.clear(false);
  ipv6_ids_.clear(false);
  tag_ids_.clear(false);
  tag_stacks_.clear();
}

void index_builder::start_part() {
  part_first_ = summary_.blocks;
  part_first_ord_ = static_cast<std::uint32_t>(slots_.size());
  touched_.clear(); // keeps its room: the next part touches about as many flows
}

void index_builder::note_blocks(std::uint32_t count) {
  if (blocks_.size() < count)
    blocks_.resize(count);
  summary_.blocks = std::max(summary_.blocks, count);
}

// Keys are not stored: each is made again from its table when written.
std::uint32_t index_builder::new_key() { return ++key_count_; }

std::uint32_t index_builder::id_direct(std::vector<std::uint32_t>& table, std::size_t i) {
  std::uint32_t& id = table[i];
  if (id == 0)
    id = new_key();
  return id;
}

template <class Table, class Key>
std::uint32_t index_builder::id_in(Table& t, const Key& value) {
  const auto fresh = key_count_ + 1;
  if (std::uint32_t id = t.find_or_insert(value, fresh))
    return id;
  return new_key();
}

// The key's fields are gathered in registers and hashed from there
// (hash_flow_words), then stored: hashing the stored key would wait for
// its narrow stores to reach memory (~30% of add's time before).
std::uint32_t index_builder::make_flow_key(const packet_attributes& a, flow_key& k) {
  std::uint32_t src = 0, dst = 0, tags = 0;
  std::uint16_t src_port = 0, dst_port = 0;
  std::uint8_t protocol = 0, flags = 0;
  if (a.ip_version == 4) {
    flags = flow_key::ipv4;
    std::memcpy(&src, a.src_ip, 4);
    std::memcpy(&dst, a.dst_ip, 4);
  } else if (a.ip_version == 6) {
    // By key id: a flow key of 20 bytes, not 44, for every flow.
    std::array<std::uint8_t, 16> s6, d6;
    std::memcpy(s6.data(), a.src_ip, 16);
    std::memcpy(d6.data(), a.dst_ip, 16);
    flags = flow_key::ipv6;
    src = id_in(ipv6_ids_, s6);
    dst = id_in(ipv6_ids_, d6);
  }
  if (a.has_protocol) {
    flags |= flow_key::has_protocol;
    protocol = a.protocol;
  }
  if (a.has_ports) {
    flags |= flow_key::has_ports;
    src_port = a.src_port;
    dst_port = a.dst_port;
  }
  if (a.vlan_count || a.mpls_count) [[unlikely]] {
    tag_stack t;
    std::memset(static_cast<void*>(&t), 0, sizeof t); // padding too: the table compares bytes
    t.vlan_count = a.vlan_count;
    t.mpls_count = a.mpls_count;
    std::copy(a.vlans, a.vlans + a.vlan_count, t.vlans);
    std::copy(a.mpls, a.mpls + a.mpls_count, t.mpls);
    const auto fresh = static_cast<std::uint32_t>(tag_stacks_.size() + 1);
    tags = tag_ids_.find_or_insert(t, fresh);
    if (tags == 0) {
      tag_stacks_.push_back(t);
      tags = fresh;
    }
  }
  k.src = src;
  k.dst = dst;
  k.src_port = src_port;
  k.dst_port = dst_port;
  k.protocol = protocol;
  k.flags = flags;
  k.pad = 0;
  k.tags = tags;
  if constexpr (std::endian::native != std::endian::little)
    return hash_flow(k);
  // The words hash_flow reads from the key's memory (pad 0).
  return hash_flow_words(std::uint64_t{src} | std::uint64_t{dst} << 32,
                         std::uint64_t{src_port} | std::uint64_t{dst_port} << 16 | std::uint64_t{protocol} << 32
                           | std::uint64_t{flags} << 40,
                         tags);
}

// A new flow's keys get their ids now (each key's table entry is made
// once); they are not stored with the flow but looked up again when written
// (flow_key_ids): a few lookups per flow then, 20 bytes per flow less now.
std::uint32_t index_builder::new_flow(const flow_key& key) {
  const auto id = static_cast<std::uint32_t>(flows_.grow_one());
  flow_record& f = flows_[id];
  f = flow_record{};
  f.key = key;
  f.head = f.tail = new_chunk();
  if (key.tags) {
    const tag_stack& t = tag_stacks_[key.tags - 1];
    for (int i = 0; i < t.vlan_count; ++i)
      id_direct(vlan_ids_, t.vlans[i]);
    for (int i = 0; i < t.mpls_count; ++i)
      id_in(mpls_ids_, t.mpls[i]);
  }
  if (key.flags & flow_key::ipv4) {
    id_in(ipv4_ids_, key.src);
    id_in(ipv4_ids_, key.dst);
  }
  if (key.flags & flow_key::has_protocol)
    id_direct(protocol_ids_, key.protocol);
  if (key.flags & flow_key::has_ports) {
    id_direct(port_ids_, key.src_port);
    id_direct(port_ids_, key.dst_port);
  }
  return id;
}

int index_builder::flow_key_ids(const flow_key& key, std::uint32_t* out) const {
  int n = 0;
  auto put = [&](std::uint32_t id) { // ids from 1; out: from 0, each once
    for (int i = 0; i < n; ++i)
      if (out[i] == id - 1)
        return;
    out[n++] = id - 1;
  };
  if (key.tags) {
    const tag_stack& t = tag_stacks_[key.tags - 1];
    for (int i = 0; i < t.vlan_count; ++i)
      put(vlan_ids_[t.vlans[i]]);
    for (int i = 0; i < t.mpls_count; ++i)
      put(mpls_ids_.find(t.mpls[i]));
  }
  if (key.flags & flow_key::ipv4) {
    put(ipv4_ids_.find(key.src));
    put(ipv4_ids_.find(key.dst));
  } else if (key.flags & flow_key::ipv6) {
    put(key.src);
    put(key.dst);
  }
  if (key.flags & flow_key::has_protocol)
    put(protocol_ids_[key.protocol]);
  if (key.flags & flow_key::has_ports) {
    put(port_ids_[key.src_port]);
    put(port_ids_[key.dst_port]);
  }
  return n;
}

std::uint32_t index_builder::new_chunk() {
  const auto n = static_cast<std::uint32_t>(chunks_.grow_one());
  chunks_[n].next = 0;
  return n;
}

void index_builder::append(flow_record& f, std::uint32_t ordinal) {
  std::uint32_t v = f.count == 0 ? ordinal : ordinal - f.last;
  if (f.count++ == 0)
    f.first = ordinal;
  f.last = ordinal;
  chunk* c = &chunks_[f.tail];
  for (;;) {
    if (f.tail_used == chunk_bytes) {
      const std::uint32_t n = new_chunk();
      c->next = n;
      f.tail = n;
      f.tail_used = 0;
      c = &chunks_[n];
    }
    if (v < 0x80) {
      c->data[f.tail_used++] = static_cast<std::uint8_t>(v);
      return;
    }
    c->data[f.tail_used++] = static_cast<std::uint8_t>((v & 0x7f) | 0x80);
    v >>= 7;
  }
}

void index_builder::add_one(const packet_entry& p, const flow_key& key, std::uint32_t hash) {
  const std::uint64_t slot = p.position >> position_shift;
  if (slot + 1 <= last_slot_)
    return; // out of order: its position could not be stored as a delta
  last_slot_ = slot + 1;
  note_blocks(p.block + 1);
  block_times& bt = blocks_[p.block];
  if (bt.packets++ == 0)
    bt.first_ns = bt.last_ns = p.ts_ns;
  bt.first_ns = std::min(bt.first_ns, p.ts_ns);
  bt.last_ns = std::max(bt.last_ns, p.ts_ns);
  if (summary_.packets++ == 0)
    summary_.first_ns = summary_.last_ns = p.ts_ns;
  summary_.first_ns = std::min(summary_.first_ns, p.ts_ns);
  summary_.last_ns = std::max(summary_.last_ns, p.ts_ns);

  const auto ordinal = static_cast<std::uint32_t>(slots_.size());
  slots_.push_back(static_cast<std::uint32_t>(slot));

  const auto fresh = static_cast<std::uint32_t>(flows_.size());
  std::uint32_t id = table_.find_or_insert(key, hash, fresh, [&](std::uint32_t i) -> const flow_key& {
    return flows_[i].key;
  });
  if (id == fresh)
    id = new_flow(key);
  flow_record& f = flows_[id];
  // The flow's first packet in this part: note where its list stands.
  if (parts_enabled_ && (f.count == 0 || f.last < part_first_ord_))
    touched_.push_back({id, f.tail, f.last, f.tail_used, f.count == 0});
  append(f, ordinal);
}

void index_builder::add(std::uint64_t position, std::uint32_t block, std::uint64_t ts_ns,
                        const packet_attributes& attrs) {
  packet_entry e;
  e.position = position;
  e.block = block;
  e.ts_ns = ts_ns;
  e.attrs = attrs;
  add(&e, 1);
}

void index_builder::add(const packet_entry* packets, std::size_t n) {
  // Keys and hashes first, and the slots asked for; by the time a packet's
  // lookup runs, its slot has (mostly) arrived.
  constexpr std::size_t batch = 16;
  flow_key keys[batch];
  std::uint32_t hashes[batch];
  for (std::size_t at = 0; at < n; at += batch) {
    const std::size_t m = std::min(batch, n - at);
    for (std::size_t i = 0; i < m; ++i) {
      hashes[i] = make_flow_key(packets[at + i].attrs, keys[i]);
      table_.prefetch(hashes[i]);
    }
    for (std::size_t i = 0; i < m; ++i)
      add_one(packets[at + i], keys[i], hashes[i]);
  }
}

std::size_t index_builder::memory_bytes() const {
  return blocks_.capacity() * sizeof(block_times)
         + slots_.memory_bytes() + table_.memory_bytes() + flows_.memory_bytes() + chunks_.memory_bytes()
         + (protocol_ids_.capacity() + port_ids_.capacity() + vlan_ids_.capacity()) * 4
         + ipv4_ids_.memory_bytes() + mpls_ids_.memory_bytes() + ipv6_ids_.memory_bytes()
         + tag_ids_.memory_bytes() + tag_stacks_.capacity() * sizeof(tag_stack) + scratch_.memory_bytes()
         + touched_.capacity() * sizeof(part_mark) + part_scratch_.memory_bytes();
}

// --- writing -------------------------------------------------------------

void index_builder::emit_meta(const std::function<void(std::string_view, std::string_view)>& fn,
                              bool part) const {
  std::string value;
  // Metadata first: "\0" < "\0blocks" < "\0file" < any other key.
  put_be(value, format_version, 4);
  fn(version_key, value);
  value.clear();
  file_summary s = part ? file_summary{0, 0, 0, summary_.blocks, block_size_} : summary_;
  for (std::uint32_t b = 0; b < blocks_.size(); ++b) {
    const block_times none{};
    const block_times& t = part && b < part_first_ ? none : blocks_[b];
    put_be(value, t.first_ns, 8);
    put_be(value, t.last_ns, 8);
    put_be(value, t.packets, 4);
    if (!part || t.packets == 0)
      continue;
    s.first_ns = s.packets == 0 ? t.first_ns : std::min(s.first_ns, t.first_ns);
    s.last_ns = s.packets == 0 ? t.last_ns : std::max(s.last_ns, t.last_ns);
    s.packets += t.packets;
  }
  fn(block_meta_key, value);
  fn(file_meta_key, file_meta_value(s, value));
}

void index_builder::for_each_entry(const std::function<void(std::string_view, std::string_view)>& fn) const {
  emit_meta(fn, false);
  for_each_key_entry(fn);
}

void index_builder::for_each_key_entry(const std::function<void(std::string_view, std::string_view)>& fn) const {
  const std::size_t nkeys = key_count_, nflows = flows_.size();
  if (nkeys == 0)
    return;
  // Every flow's ordinals, decoded once, flow after flow: a key's flows are
  // then read from one array, not from chunk chains (a miss per chunk, and
  // as many walks as the flow has keys).
  // (Scratch kept in the builder until reset(): fresh vectors per write
  // are page faults.)
  // Their positions too, once per packet (a scattered read of slots_,
  // asked for ahead): a key of one flow or of a few packets then reads its
  // positions in a row.
  auto& flow_at = scratch_.flow_at;
  auto& ords = scratch_.ords;
  auto& fslots = scratch_.fslots;
  const auto total = static_cast<std::uint32_t>(slots_.size());
  flow_at.resize(nflows + 1);
  ords.resize(total);
  fslots.resize(total);
  {
    std::uint32_t at = 0;
    for (std::size_t f = 0; f < nflows; ++f) {
      flow_at[f] = at;
      if (f + 1 < nflows)
        __builtin_prefetch(&chunks_[flows_[f + 1].head]);
      for_each_ordinal(flows_[f], [&](std::uint32_t o) { ords[at++] = o; });
    }
    flow_at[nflows] = at;
    constexpr std::uint32_t ahead = 16;
    for (std::uint32_t j = 0; j < at; ++j) {
      if (j + ahead < at)
        __builtin_prefetch(&slots_[ords[j + ahead]]);
      fslots[j] = slots_[ords[j]];
    }
  }
  // Key -> its flows, by a counting sort of the flows' key lists.
  auto& start = scratch_.start;
  start.assign(nkeys + 1, 0);
  std::uint32_t ids[max_flow_keys];
  for (std::size_t f = 0; f < nflows; ++f) {
    const int n = flow_key_ids(flows_[f].key, ids);
    for (int i = 0; i < n; ++i)
      ++start[ids[i] + 1];
  }
  for (std::size_t k = 0; k < nkeys; ++k)
    start[k + 1] += start[k];
  auto& members = scratch_.members;
  members.resize(start[nkeys]);
  {
    auto& fill = scratch_.fill;
    fill.assign(start.begin(), start.end() - 1);
    for (std::size_t f = 0; f < nflows; ++f) {
      const int n = flow_key_ids(flows_[f].key, ids);
      for (int i = 0; i < n; ++i)
        members[fill[ids[i]]++] = static_cast<std::uint32_t>(f);
    }
  }

  // Dense keys (many flows, at least 1/1024 of the packets: protocols,
  // server ports and addresses) get their positions in one sequential pass
  // over the packets, each packet's position appended to each of its flow's
  // dense keys: per packet a few appends, instead of one bitmap walk (set,
  // scan the whole range, gather, strided reads of the positions) per key.
  // At most the 512 largest: the pass appends to every dense key's list at
  // once, and a few hundred list ends stay in cache, thousands do not. The
  // others are merged one at a time (emit).
  constexpr std::uint64_t dense_share = 1024;
  constexpr std::size_t max_dense = 512;
  auto& dense_of = scratch_.fill; // key -> its dense number + 1, 0: not dense
  dense_of.assign(nkeys, 0);
  std::uint32_t ndense = 0;
  auto& candidates = scratch_.dense_candidates; // packets << 32 | key
  candidates.clear();
  for (std::size_t k = 0; k < nkeys; ++k) {
    if (start[k + 1] - start[k] < 2)
      continue;
    std::uint64_t count = 0;
    for (std::size_t i = start[k]; i < start[k + 1]; ++i)
      count += flows_[members[i]].count;
    if (count * dense_share >= total)
      candidates.push_back(count << 32 | k);
  }
  if (candidates.size() > max_dense) {
    std::nth_element(candidates.begin(), candidates.begin() + max_dense, candidates.end(), std::greater<>());
    candidates.resize(max_dense);
  }
  for (const std::uint64_t c : candidates)
    dense_of[static_cast<std::uint32_t>(c)] = ++ndense;
  auto& dense_values = scratch_.dense_values;
  if (ndense > 0) {
    // Flow -> its dense keys (numbers), by a counting sort of the dense keys' flows.
    auto& fk_at = scratch_.fk_at;
    auto& fk = scratch_.fk;
    fk_at.assign(nflows + 1, 0);
    for (std::size_t k = 0; k < nkeys; ++k)
      if (dense_of[k])
        for (std::size_t i = start[k]; i < start[k + 1]; ++i)
          ++fk_at[members[i] + 1];
    for (std::size_t f = 0; f < nflows; ++f)
      fk_at[f + 1] += fk_at[f];
    fk.resize(fk_at[nflows]);
    auto& fk_fill = scratch_.gathered;
    fk_fill.assign(fk_at.begin(), fk_at.end() - 1);
    for (std::size_t k = 0; k < nkeys; ++k)
      if (dense_of[k])
        for (std::size_t i = start[k]; i < start[k + 1]; ++i)
          fk[fk_fill[members[i]]++] = dense_of[k] - 1;
    // Ordinal -> flow.
    auto& flow_of = scratch_.flow_of;
    flow_of.resize(total);
    for (std::size_t f = 0; f < nflows; ++f)
      for (std::uint32_t j = flow_at[f]; j < flow_at[f + 1]; ++j)
        flow_of[ords[j]] = static_cast<std::uint32_t>(f);
    if (dense_values.size() < ndense)
      dense_values.resize(ndense);
    // Each list's end as plain pointers in one small array (the loop below
    // then neither reloads vectors through aliasing char stores nor checks
    // more than its room); room kept for the next write.
    struct tail {
      char* at;
      char* end; // room for one more varint while at + 5 <= end
      std::uint32_t last; // the last slot appended (0 first: the first value is absolute)
    };
    std::vector<tail> tails(ndense);
    for (std::uint32_t d = 0; d < ndense; ++d) {
      auto& bytes = dense_values[d].bytes;
      if (bytes.size() < 64)
        bytes.resize(64);
      tails[d] = tail{bytes.data(), bytes.data() + bytes.size(), 0};
    }
    const std::uint32_t* const flow_of_p = flow_of.data();
    const std::uint32_t* const fk_at_p = fk_at.data();
    const std::uint32_t* const fk_p = fk.data();
    tail* const tails_p = tails.data();
    for (std::uint32_t o = 0; o < total; ++o) {
      const std::uint32_t f = flow_of_p[o];
      const std::uint32_t slot = slots_[o];
      for (std::uint32_t i = fk_at_p[f], e = fk_at_p[f + 1]; i < e; ++i) {
        tail& t = tails_p[fk_p[i]];
        if (t.end - t.at < 5) [[unlikely]] {
          auto& bytes = dense_values[fk_p[i]].bytes;
          const std::size_t used = static_cast<std::size_t>(t.at - bytes.data());
          bytes.resize(2 * bytes.size());
          t.at = bytes.data() + used;
          t.end = bytes.data() + bytes.size();
        }
        t.at = put_varint(t.at, slot - t.last);
        t.last = slot;
      }
    }
    for (std::uint32_t d = 0; d < ndense; ++d)
      dense_values[d].used = static_cast<std::size_t>(tails[d].at - dense_values[d].bytes.data());
  }

  auto& bitmap = scratch_.bitmap; // all zero between uses: each walk clears what it read
  if (bitmap.size() < (total + 63) / 64)
    bitmap.resize((total + 63) / 64, 0);
  auto& gathered = scratch_.gathered;
  std::vector<char> value; // room for the largest non-dense key's list
  auto emit = [&](std::uint32_t k, const index_key& key) {
    const std::uint32_t* m = members.data() + start[k];
    const std::size_t n = start[k + 1] - start[k];
    if (n == 0)
      return;
    if (dense_of[k]) {
      const auto& list = dense_values[dense_of[k] - 1];
      fn(key.view(), std::string_view(list.bytes.data(), list.used));
      return;
    }
    const std::uint32_t* slots;
    std::size_t count;
    if (n == 1) {
      slots = fslots.data() + flow_at[m[0]];
      count = flow_at[m[0] + 1] - flow_at[m[0]];
    } else {
      std::uint64_t packets = 0;
      std::uint32_t lo = ~0u, hi = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const flow_record& r = flows_[m[i]];
        packets += r.count;
        lo = std::min(lo, r.first);
        hi = std::max(hi, r.last);
      }
      const std::uint32_t wlo = lo / 64, whi = hi / 64;
      gathered.clear();
      if ((whi - wlo + 1) <= packets * 16) { // dense enough: a bitmap walk (sequential) beats a sort
        for (std::size_t i = 0; i < n; ++i)
          for (std::uint32_t j = flow_at[m[i]]; j < flow_at[m[i] + 1]; ++j)
            bitmap[ords[j] / 64] |= std::uint64_t{1} << (ords[j] % 64);
        for (std::uint32_t w = wlo; w <= whi; ++w) {
          std::uint64_t bits = bitmap[w];
          bitmap[w] = 0;
          while (bits) {
            gathered.push_back(w * 64 + static_cast<std::uint32_t>(__builtin_ctzll(bits)));
            bits &= bits - 1;
          }
        }
        // Ordinals in order, then their positions: strided reads of slots_, asked for ahead.
        constexpr std::size_t ahead = 16;
        const std::size_t size = gathered.size();
        for (std::size_t i = 0; i < size; ++i) {
          if (i + ahead < size)
            __builtin_prefetch(&slots_[gathered[i + ahead]]);
          gathered[i] = slots_[gathered[i]];
        }
      } else {
        for (std::size_t i = 0; i < n; ++i)
          gathered.insert(gathered.end(), fslots.begin() + flow_at[m[i]], fslots.begin() + flow_at[m[i] + 1]);
        std::sort(gathered.begin(), gathered.end());
      }
      slots = gathered.data();
      count = gathered.size();
    }
    if (value.size() < 5 * count)
      value.resize(5 * count);
    char* p = value.data();
    std::uint32_t prev = 0;
    for (std::size_t i = 0; i < count; ++i) {
      p = put_varint(p, slots[i] - prev); // the first: absolute (prev 0)
      prev = slots[i];
    }
    fn(key.view(), std::string_view(value.data(), static_cast<std::size_t>(p - value.data())));
  };

  // Keys in key order (types ascend): the direct tables are in order
  // already; the hashed ones are sorted by value (big-endian values sort
  // as their keys do).
  for (std::size_t p = 0; p < protocol_ids_.size(); ++p)
    if (protocol_ids_[p])
      emit(protocol_ids_[p] - 1, protocol_key(static_cast<std::uint8_t>(p)));
  for (std::size_t p = 0; p < port_ids_.size(); ++p)
    if (port_ids_[p])
      emit(port_ids_[p] - 1, port_key(static_cast<std::uint16_t>(p)));
  for (std::size_t v = 0; v < vlan_ids_.size(); ++v)
    if (vlan_ids_[v])
      emit(vlan_ids_[v] - 1, vlan_key(static_cast<std::uint16_t>(v)));
  auto sorted_u32 = [&](const flat_table<std::uint32_t>& t, bool network_order) {
    std::vector<std::uint64_t> v;
    v.reserve(t.size());
    t.for_each([&](std::uint32_t value, std::uint32_t id) {
      const std::uint32_t host = network_order ? __builtin_bswap32(value) : value;
      v.push_back(std::uint64_t{host} << 32 | (id - 1));
    });
    std::sort(v.begin(), v.end());
    return v;
  };
  for (std::uint64_t x : sorted_u32(ipv4_ids_, true)) {
    const std::uint32_t be = __builtin_bswap32(static_cast<std::uint32_t>(x >> 32));
    emit(static_cast<std::uint32_t>(x), ipv4_key(reinterpret_cast<const std::uint8_t*>(&be)));
  }
  for (std::uint64_t x : sorted_u32(mpls_ids_, false))
    emit(static_cast<std::uint32_t>(x), mpls_key(static_cast<std::uint32_t>(x >> 32)));
  std::vector<std::pair<std::array<std::uint8_t, 16>, std::uint32_t>> v6;
  ipv6_ids_.for_each([&](const std::array<std::uint8_t, 16>& a, std::uint32_t id) { v6.emplace_back(a, id - 1); });
  std::sort(v6.begin(), v6.end());
  for (const auto& [addr, id] : v6)
    emit(id, ipv6_key(addr.data()));
}

} // namespace stenotype::index
