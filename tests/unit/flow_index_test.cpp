// The flow-based index builder (index/index_builder.hpp) and its parts: the
// flow table and paged array it stands on, many distinct flows, VLAN/MPLS
// stacks as part of a flow, and parts (the open file's partial indexes) that
// answer every key of the blocks they cover, damaged ones refused. Expected answers come from how
// the frames were made (support/made_traffic.hpp), not from the builder.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "index/block_indexer.hpp"
#include "index/flow_part.hpp"
#include "index/flow_table.hpp"
#include "index/index_file.hpp"
#include "index/keys.hpp"
#include "index/paged_array.hpp"
#include "stenotype/error.hpp"
#include "support/made_traffic.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype;
using namespace stenotype::index;
using stenotype::test::frame_builder;
using stenotype::test::k;
using stenotype::test::made_packet;

namespace {

using entries = std::vector<std::pair<std::string, std::string>>;

entries entries_of(const index_reader& r) {
  entries out;
  r.for_each_entry([&](std::string_view key, std::string_view v) { out.emplace_back(key, v); });
  return out;
}

std::map<std::string, std::set<std::uint32_t>> keys_of(const index_reader& r) {
  std::map<std::string, std::set<std::uint32_t>> got;
  r.for_each_entry([&](std::string_view key, std::string_view value) {
    if (key[0] == 0)
      return;
    std::vector<std::uint32_t> pos;
    REQUIRE(decode_positions(value, pos));
    got[std::string(key)] = std::set<std::uint32_t>(pos.begin(), pos.end());
  });
  return got;
}

// `n` packets over `flows` distinct IPv4 5-tuples (each flow's packets
// spread over the whole run), some with VLAN and MPLS stacks.
std::vector<made_packet> many_flows(std::size_t n, std::size_t flows, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<made_packet> out;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t f = i < flows ? static_cast<std::uint32_t>(i) : rng() % flows; // every flow once, then at random
    std::mt19937 frng(f * 7919u + seed); // the flow's fields: the same for each of its packets
    made_packet p;
    p.ts_ns = 1'700'000'000'000'000'000ull + i * 1000ull;
    frame_builder b;
    const unsigned shape = frng() % 8;
    if (shape == 1 || shape == 2) { // QinQ, or three tags
      const auto outer = static_cast<std::uint16_t>(1 + frng() % 4000), inner = static_cast<std::uint16_t>(1 + frng() % 4000);
      b.vlan(outer, 0x88a8).vlan(inner);
      p.keys.push_back(k(vlan_key(outer)));
      p.keys.push_back(k(vlan_key(inner)));
      if (shape == 2) {
        b.vlan(outer); // the outer id again: the key once
      }
    }
    if (shape == 3) {
      const std::uint32_t l1 = frng() % (1 << 20), l2 = frng() % (1 << 20);
      b.mpls(l1).mpls(l2);
      p.keys.push_back(k(mpls_key(l1)));
      p.keys.push_back(k(mpls_key(l2)));
    }
    const std::array<std::uint8_t, 4> src{10, static_cast<std::uint8_t>(frng()), static_cast<std::uint8_t>(frng()),
                                          static_cast<std::uint8_t>(frng())};
    const std::array<std::uint8_t, 4> dst{192, 168, 0, static_cast<std::uint8_t>(frng() % 64)};
    const std::uint8_t proto = frng() % 4 == 0 ? 17 : 6;
    b.ipv4(src, dst, proto);
    const auto sp = static_cast<std::uint16_t>(1024 + frng() % 60000);
    const std::uint16_t dp = shape == 4 ? sp : static_cast<std::uint16_t>(80 + frng() % 8); // equal ports: one key
    b.ports(sp, dp);
    for (const auto& key : {k(ipv4_key(src.data())), k(ipv4_key(dst.data())), k(protocol_key(proto)),
                            k(port_key(sp)), k(port_key(dp))})
      p.keys.push_back(key);
    b.payload(rng() % 64);
    p.frame = b.build();
    out.push_back(std::move(p));
  }
  return out;
}

// The expected map counts a key once per packet: dedupe each packet's keys.
std::vector<made_packet> dedupe(std::vector<made_packet> pkts) {
  for (auto& p : pkts) {
    std::set<std::string> s(p.keys.begin(), p.keys.end());
    p.keys.assign(s.begin(), s.end());
  }
  return pkts;
}

// Indexes block `n` of a packet file held in memory, at its file offset.
void index_nth_block(index_builder& b, const std::vector<std::uint8_t>& file, std::uint32_t n, std::size_t bs) {
  index_block(b, std::span<const std::uint8_t>(file).subspan(std::size_t{n} * bs, bs), std::uint64_t{n} * bs);
}

} // namespace

TEST_CASE("paged_array: elements stay where they were put across pages, clear keeps pages for reuse") {
  paged_array<std::uint32_t, 4> a; // 16 per page
  for (std::uint32_t i = 0; i < 1000; ++i)
    a.push_back(i * 3);
  REQUIRE(a.size() == 1000);
  const std::uint32_t* first = &a[0];
  for (std::uint32_t i = 0; i < 1000; ++i)
    CHECK(a[i] == i * 3);
  CHECK(a.memory_bytes() == 63 * 16 * 4);
  a.clear(a.memory_bytes());
  CHECK(a.size() == 0);
  CHECK(a.memory_bytes() == 63 * 16 * 4);
  a.push_back(7);
  CHECK(&a[0] == first);
  a.clear();
  CHECK(a.memory_bytes() == 0);
}

TEST_CASE("flow_table: distinct flows get distinct ids through growth, and a key finds its id again") {
  std::vector<flow_key> keys;
  for (std::uint32_t i = 0; i < 200000; ++i) {
    flow_key fk;
    fk.flags = flow_key::ipv4 | flow_key::has_ports;
    fk.src = i;
    fk.dst = 0xc0a80001;
    fk.src_port = static_cast<std::uint16_t>(i % 3);
    keys.push_back(fk);
  }
  // Keys that differ in one field only are different flows.
  flow_key other = keys[5];
  other.tags = 1;
  keys.push_back(other);
  other = keys[5];
  other.dst_port = 1;
  keys.push_back(other);
  flow_table t;
  auto records = [&](std::uint32_t id) -> const flow_key& { return keys[id]; };
  for (std::uint32_t i = 0; i < keys.size(); ++i)
    REQUIRE(t.find_or_insert(keys[i], hash_flow(keys[i]), i, records) == i);
  CHECK(t.size() == keys.size());
  for (std::uint32_t i = 0; i < keys.size(); i += 97)
    CHECK(t.find_or_insert(keys[i], hash_flow(keys[i]), 999999999, records) == i);
  CHECK(t.size() == keys.size());
}

TEST_CASE("flow index: many distinct flows, VLAN and MPLS stacks: every key maps to exactly its packets") {
  stenotype::test::temp_dir tmp;
  constexpr std::size_t bs = 64 * 1024;
  const auto pkts = dedupe(many_flows(60000, 20000, 3));
  index_builder builder{bs};
  const auto expected = stenotype::test::index_traffic(pkts, builder, bs);
  CHECK(builder.flows() == 20000);
  write_index_file(builder, tmp.path() + "/idx");
  index_reader r{tmp.path() + "/idx"};
  CHECK(r.summary().packets == pkts.size());
  CHECK(keys_of(r) == expected);
}

TEST_CASE("flow index: the encapsulation traffic of the round-trip test, with the stacks in the flow") {
  stenotype::test::temp_dir tmp;
  constexpr std::size_t bs = 64 * 1024;
  const auto pkts = dedupe(stenotype::test::make_traffic(8000, 11));
  index_builder builder{bs};
  const auto expected = stenotype::test::index_traffic(pkts, builder, bs);
  write_index_file(builder, tmp.path() + "/idx");
  CHECK(keys_of(index_reader{tmp.path() + "/idx"}) == expected);
}

namespace {

// Every key's positions as the parts (read back from disk) give them, in part order.
std::map<std::string, std::set<std::uint32_t>> keys_of_parts(const std::vector<std::string>& paths,
                                                             const std::map<std::string, std::set<std::uint32_t>>& asked) {
  std::map<std::string, std::set<std::uint32_t>> got;
  std::vector<flow_part> parts;
  for (const auto& p : paths)
    parts.emplace_back(p);
  for (const auto& [key, unused] : asked) {
    std::vector<std::uint32_t> pos;
    for (const auto& part : parts)
      part.positions_with_key_in(key, key, pos);
    CHECK(std::is_sorted(pos.begin(), pos.end()));
    if (!pos.empty())
      got[key] = std::set<std::uint32_t>(pos.begin(), pos.end());
    CHECK(got[key].size() == pos.size()); // no packet twice
    if (pos.empty())
      got.erase(key);
  }
  return got;
}

// What `expected` holds for the packets in the first `blocks` blocks.
std::map<std::string, std::set<std::uint32_t>> before_block(const std::map<std::string, std::set<std::uint32_t>>& expected,
                                                            std::uint32_t blocks, std::size_t bs) {
  std::map<std::string, std::set<std::uint32_t>> out;
  for (const auto& [key, pos] : expected)
    for (const std::uint32_t p : pos)
      if (p < std::uint64_t{blocks} * bs)
        out[key].insert(p);
  return out;
}

} // namespace

TEST_CASE("flow index: parts answer every key for the blocks they cover, and the full index is as without parts") {
  stenotype::test::temp_dir tmp;
  constexpr std::size_t bs = 64 * 1024;
  // IPv4 flows with VLAN/MPLS stacks, and the round-trip traffic (IPv6, tunnels, fragments).
  for (const auto& pkts : {dedupe(many_flows(40000, 5000, 9)), dedupe(stenotype::test::make_traffic(8000, 11))}) {
    std::vector<std::uint8_t> file;
    index_builder whole{bs};
    const auto expected = stenotype::test::index_traffic(pkts, whole, bs, &file);
    const auto blocks = static_cast<std::uint32_t>(file.size() / bs);
    REQUIRE(blocks >= 4);
    write_index_file(whole, tmp.path() + "/whole");

    for (const std::vector<std::uint32_t>& cuts : {std::vector<std::uint32_t>{1, 2, 3, blocks - 1},
                                                   std::vector<std::uint32_t>{blocks / 2},
                                                   std::vector<std::uint32_t>{blocks}}) {
      index_builder b{bs};
      b.enable_parts();
      std::vector<std::string> parts;
      std::uint32_t done = 0;
      for (const std::uint32_t cut : cuts) {
        for (; done < cut; ++done)
          index_nth_block(b, file, done, bs);
        parts.push_back(tmp.path() + "/part" + std::to_string(parts.size()));
        write_index_entries([&](const entry_fn& put) { b.for_each_part_entry(put); }, parts.back(), table_use::transient);
        const flow_part part{parts.back()};
        CHECK(part.summary().blocks == cut);
        b.start_part();
        CHECK(keys_of_parts(parts, expected) == before_block(expected, cut, bs));
      }
      // An address range (a CIDR query) over the parts: every IPv4 packet.
      std::set<std::uint32_t> v4, got;
      for (const auto& [key, pos] : before_block(expected, done, bs))
        if (key[0] == static_cast<char>(key_type::ipv4))
          v4.insert(pos.begin(), pos.end());
      for (const auto& p : parts) {
        std::vector<std::uint32_t> pos;
        flow_part{p}.positions_with_key_in(ipv4_key(std::array<std::uint8_t, 4>{0, 0, 0, 0}.data()).view(),
                                           ipv4_key(std::array<std::uint8_t, 4>{255, 255, 255, 255}.data()).view(), pos);
        got.insert(pos.begin(), pos.end());
      }
      CHECK(got == v4);
      // A range over key types (made keys, not the one-type path): every packet with a key.
      std::set<std::uint32_t> any, got_any;
      for (const auto& [key, pos] : before_block(expected, done, bs))
        any.insert(pos.begin(), pos.end());
      std::array<std::uint8_t, 16> ones;
      ones.fill(0xff);
      for (const auto& p : parts) {
        std::vector<std::uint32_t> pos;
        flow_part{p}.positions_with_key_in(protocol_key(0).view(), ipv6_key(ones.data()).view(), pos);
        got_any.insert(pos.begin(), pos.end());
      }
      CHECK(got_any == any);
      for (; done < blocks; ++done)
        index_nth_block(b, file, done, bs);
      write_index_file(b, tmp.path() + "/full");
      CHECK(entries_of(index_reader{tmp.path() + "/full"}) == entries_of(index_reader{tmp.path() + "/whole"}));
      CHECK(keys_of(index_reader{tmp.path() + "/full"}) == expected);
      for (const auto& p : parts)
        std::remove(p.c_str());
    }
  }
}

TEST_CASE("flow index: a damaged or inconsistent part is refused with one line, never read past its bounds") {
  stenotype::test::temp_dir tmp;
  constexpr std::size_t bs = 64 * 1024;
  const auto pkts = dedupe(many_flows(6000, 500, 5));
  std::vector<std::uint8_t> file;
  index_builder whole{bs};
  stenotype::test::index_traffic(pkts, whole, bs, &file);
  index_builder b{bs};
  b.enable_parts();
  index_nth_block(b, file, 0, bs);
  entries good;
  b.for_each_part_entry([&](std::string_view k, std::string_view v) { good.emplace_back(k, v); });
  REQUIRE(good.size() >= 6);
  const std::string path = tmp.path() + "/part";
  auto write = [&](const entries& e) {
    write_index_entries([&](const entry_fn& put) {
      for (const auto& [k, v] : e)
        put(k, v);
    }, path, table_use::transient);
  };
  write(good);
  REQUIRE(flow_part{path}.flows() > 0);

  auto refused = [&](const entries& e) {
    write(e);
    try {
      const flow_part p{path};
      std::vector<std::uint32_t> pos;
      for (std::size_t i = 0; i < p.flows(); ++i)
        p.positions_of(i, pos);
      FAIL("accepted a damaged part");
    } catch (const failure& f) {
      CHECK(f.code() == errc::damaged_index);
      CHECK(std::string(f.what()).find("damaged partial index") != std::string::npos);
      CHECK(std::string(f.what()).find('\n') == std::string::npos);
    }
  };
  auto with = [&](std::string_view key, auto change) {
    entries e = good;
    bool found = false;
    for (auto& [k, v] : e)
      if (k.compare(0, key.size(), key) == 0) {
        change(v);
        found = true;
      }
    REQUIRE(found);
    return e;
  };
  refused(with(part_meta_key, [](std::string& v) { v[11] ^= 1; }));         // packet count
  refused(with(part_meta_key, [](std::string& v) { v[3] = 9; }));           // version
  refused(with(part_flows_key, [](std::string& v) { v.resize(v.size() - 3); })); // a cut record
  refused(with(part_flows_key, [](std::string& v) { v[14] = '\x7f'; }));    // ordinals' offset past the end
  refused(with(part_slots_key, [](std::string& v) { v.resize(v.size() / 2); }));
  refused(with(part_slots_key, [](std::string& v) { v[0] = '\xff'; v[1] = '\xff'; v[2] = '\xff'; })); // outside its blocks
  refused(with(part_ords_key, [](std::string& v) {
    for (auto& c : v)
      c = '\x80'; // no varint ends
  }));
  entries no_slots;
  for (const auto& e : good)
    if (e.first.compare(0, part_slots_key.size(), part_slots_key) != 0)
      no_slots.push_back(e);
  refused(no_slots);
}
