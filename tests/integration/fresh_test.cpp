// Fresh packets: stenoread finds packets of the file the capture is still
// writing (its durable extent, its partial indexes, a scan of the rest),
// long before the file rotates; a query in the middle of a burst returns
// only packets whose writes completed, each intact; a kill -9 with partial
// indexes on disk is recovered like any crash. No timing assertions: the
// tests wait for what they expect, with generous limits, and check what
// they got (the latency is measured by bench/fresh_bench.sh).
#include <catch2/catch.hpp>

#include <csignal>
#include <map>
#include <set>
#include <thread>

#include "support/frames.hpp"
#include "support/netns.hpp"
#include "support/packet_files.hpp"
#include "support/pcap_file.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t block_size = 64 * 1024;
constexpr std::uint16_t probe_port = 7777;

// UDP 10.7.0.1 -> 10.7.0.2:7777 with the sequence number in its last four
// bytes, so that every frame read back can be compared with the one sent.
frame probe_frame(std::uint32_t seq, std::size_t payload) {
  frame f = frame_builder{}
              .ipv4({10, 7, 0, 1}, {10, 7, 0, 2}, 17)
              .ports(static_cast<std::uint16_t>(40000 + seq % 1000), probe_port)
              .payload(payload)
              .build();
  for (int i = 0; i < 4; ++i)
    f[f.size() - 4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(seq >> (8 * i));
  return f;
}

std::uint32_t seq_of(const std::vector<std::uint8_t>& f) {
  std::uint32_t seq = 0;
  for (int i = 3; i >= 0; --i)
    seq = seq << 8 | f[f.size() - 4 + static_cast<std::size_t>(i)];
  return seq;
}

std::vector<std::string> capture_args(const veth_lab& lab, const std::string& dir, int threads) {
  // Default rotation (60 s, 4 GiB): every packet of a test lands in a file still open.
  return {STENOTYPE_BINARY, "--iface=" + lab.capture_if(), "--dir=" + dir, "--blocks=64",
          "--blocksize_kb=64", "--aiops=8", "--blockage_sec=1", "--threads=" + std::to_string(threads),
          "--filter=udp port " + std::to_string(probe_port), "-v"};
}

struct answer {
  int status = -1;
  std::string err;
  std::vector<pcap_record> records;
};

answer stenoread(const std::string& dir, const std::string& query) {
  const std::string out = dir + "/../fresh-answer.pcap";
  answer a;
  a.status = run_process({STENOREAD_BINARY, "--dir=" + dir, query, "-w", out}, 60, &a.err);
  a.records = read_pcap_records(out);
  std::remove(out.c_str());
  return a;
}

// The complete (final-named) packet files under `dir`.
std::size_t complete_files(const std::string& dir, int threads) {
  std::size_t n = 0;
  for (int t = 0; t < threads; ++t)
    for (const auto& name : list_dir(dir + "/PKT" + std::to_string(t)))
      n += name[0] != '.';
  return n;
}

// Every record is one of `sent`, byte for byte, and none comes twice.
void check_intact(const answer& a, const std::vector<frame>& sent, std::set<std::uint32_t>& seqs) {
  for (const auto& r : a.records) {
    REQUIRE(r.bytes.size() >= 60);
    const std::uint32_t seq = seq_of(r.bytes);
    REQUIRE(seq < sent.size());
    CHECK(r.bytes == sent[seq]);
    CHECK(seqs.insert(seq).second);
  }
}

} // namespace

TEST_CASE("stenoread finds a packet of the file still being written, before it rotates") {
  REQUIRE_ROOT();
  const int threads = GENERATE(1, 2);
  INFO("threads " << threads);
  veth_lab lab;
  temp_dir tmp;
  const std::string dir = tmp.path() + "/data";
  background_process cap{capture_args(lab, dir, threads)};
  REQUIRE(cap.wait_for_stderr("capturing on", 10));
  std::vector<frame> sent;
  for (std::uint32_t i = 0; i < 40; ++i)
    sent.push_back(probe_frame(i, 100 + i));
  lab.send(sent, 8, 1000);

  // Within a few seconds every frame is found, while no file is complete.
  answer a;
  std::set<std::uint32_t> seqs;
  for (int attempt = 0; attempt < 40 && seqs.size() < sent.size(); ++attempt) {
    std::this_thread::sleep_for(500ms);
    a = stenoread(dir, "udp and host 10.7.0.2 and port 7777 and after 5m ago");
    REQUIRE(a.status == 0);
    seqs.clear();
    check_intact(a, sent, seqs);
  }
  INFO(a.err);
  CHECK(seqs.size() == sent.size());
  CHECK(complete_files(dir, threads) == 0);
  CHECK(a.err.find("warning") == std::string::npos);
  // Time filters hold on the open file's packets as on a complete file's.
  const answer none = stenoread(dir, "port 7777 and before 10m ago");
  CHECK(none.status == 0);
  CHECK(none.records.empty());
  std::uint64_t min_ts = UINT64_MAX, max_ts = 0;
  for (const auto& r : a.records) {
    min_ts = std::min(min_ts, r.ts_ns);
    max_ts = std::max(max_ts, r.ts_ns);
  }
  // [lo, hi] split in the middle: each half is exactly its packets.
  const std::uint64_t mid = min_ts + (max_ts - min_ts) / 2 + 1;
  auto rfc3339 = [](std::uint64_t ns) {
    char buf[64];
    const std::time_t s = static_cast<std::time_t>(ns / 1000000000u);
    std::tm tm{};
    gmtime_r(&s, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[96];
    std::snprintf(out, sizeof out, "%s.%09lluZ", buf, static_cast<unsigned long long>(ns % 1000000000u));
    return std::string(out);
  };
  const answer early = stenoread(dir, "port 7777 and before " + rfc3339(mid));
  const answer late = stenoread(dir, "port 7777 and after " + rfc3339(mid));
  std::size_t want_early = 0;
  for (const auto& r : a.records)
    want_early += r.ts_ns < mid;
  CHECK(early.records.size() == want_early);
  CHECK(late.records.size() == a.records.size() - want_early);
  for (const auto& r : early.records)
    CHECK(r.ts_ns < mid);
  for (const auto& r : late.records)
    CHECK(r.ts_ns >= mid);
  // Complete files only: nothing yet.
  std::string err;
  const std::string out = tmp.path() + "/closed.pcap";
  CHECK(run_process({STENOREAD_BINARY, "--dir=" + dir, "--no_open_files", "port 7777", "-w", out}, 60, &err) == 0);
  CHECK(read_pcap_records(out).empty());
  REQUIRE(cap.stop(SIGTERM, 30) == 0);
  // After the rotation at stop: the same packets, from complete files, and
  // nothing of the open file's companions is left.
  const answer after = stenoread(dir, "udp and host 10.7.0.2 and port 7777");
  std::set<std::uint32_t> again;
  check_intact(after, sent, again);
  CHECK(again == seqs);
  for (int t = 0; t < threads; ++t) {
    for (const auto& name : list_dir(dir + "/PKT" + std::to_string(t)))
      CHECK(name[0] != '.');
    for (const auto& name : list_dir(dir + "/IDX" + std::to_string(t)))
      CHECK(name[0] != '.');
  }
}

TEST_CASE("a query during a burst returns only packets whose writes completed, each intact") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  const std::string dir = tmp.path() + "/data";
  background_process cap{capture_args(lab, dir, 1)};
  REQUIRE(cap.wait_for_stderr("capturing on", 10));
  std::vector<frame> sent;
  for (std::uint32_t i = 0; i < 60000; ++i)
    sent.push_back(probe_frame(i, 200 + (i * 37) % 1200));
  std::thread sender([&] { lab.send(sent, 64, 100); });
  std::vector<std::set<std::uint32_t>> seen;
  std::size_t nonempty = 0;
  for (int q = 0; q < 12; ++q) {
    std::this_thread::sleep_for(300ms);
    const answer a = stenoread(dir, q % 2 ? "port 7777" : "udp and after 10m ago");
    INFO(a.err);
    REQUIRE(a.status == 0);
    CHECK(a.err.find("warning") == std::string::npos);
    std::set<std::uint32_t> seqs;
    check_intact(a, sent, seqs);
    nonempty += !seqs.empty();
    seen.push_back(std::move(seqs));
  }
  sender.join();
  REQUIRE(cap.stop(SIGTERM, 30) == 0);
  // Everything a query returned mid-burst was captured, and is there at the end.
  const answer all = stenoread(dir, "port 7777");
  std::set<std::uint32_t> final_seqs;
  check_intact(all, sent, final_seqs);
  for (const auto& s : seen)
    CHECK(std::includes(final_seqs.begin(), final_seqs.end(), s.begin(), s.end()));
  CHECK(nonempty > 0); // the queries did read the open file
}

TEST_CASE("kill -9 with partial indexes on disk: recovery leaves the directory as after any crash") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  const std::string dir = tmp.path() + "/data";
  std::vector<frame> sent;
  for (std::uint32_t i = 0; i < 4000; ++i)
    sent.push_back(probe_frame(i, 300 + (i * 53) % 1100));
  {
    background_process cap{capture_args(lab, dir, 1)};
    REQUIRE(cap.wait_for_stderr("capturing on", 10));
    // Over a few seconds, so that the indexer publishes several parts.
    for (std::size_t from = 0; from < sent.size(); from += 1000) {
      lab.send(std::vector<frame>(sent.begin() + static_cast<long>(from), sent.begin() + static_cast<long>(from + 1000)),
               16, 500);
      std::this_thread::sleep_for(1200ms);
    }
    bool parts = false, extent = false;
    for (int i = 0; i < 40 && !(parts && extent); ++i, std::this_thread::sleep_for(250ms)) {
      for (const auto& n : list_dir(dir + "/IDX0"))
        parts |= n.find(".part-") != std::string::npos && n.find("new") == std::string::npos;
      for (const auto& n : list_dir(dir + "/PKT0"))
        extent |= n.find(".extent") != std::string::npos;
    }
    REQUIRE(parts);
    REQUIRE(extent);
    // What a query saw before the crash is what recovery keeps at least.
    const answer before = stenoread(dir, "port 7777");
    REQUIRE(before.status == 0);
    cap.stop(SIGKILL, 10);
    std::set<std::uint32_t> seqs;
    check_intact(before, sent, seqs);
    CHECK(!seqs.empty());

    background_process again{capture_args(lab, dir, 1)};
    REQUIRE(again.wait_for_stderr("capturing on", 10));
    INFO(again.stderr_text());
    REQUIRE(again.stop(SIGTERM, 30) == 0);
    CHECK(again.stderr_text().find("stale fresh-query file") != std::string::npos);
    const auto cap_dir = read_capture_dir(dir, block_size);
    CHECK(cap_dir.hidden.empty());
    CHECK(cap_dir.problems.empty());
    const auto bad = index_mismatches(dir, cap_dir, block_size);
    for (const auto& b : bad)
      UNSCOPED_INFO(b);
    CHECK(bad.empty());
    const answer after = stenoread(dir, "port 7777");
    CHECK(after.status == 0);
    std::set<std::uint32_t> kept;
    check_intact(after, sent, kept);
    CHECK(std::includes(kept.begin(), kept.end(), seqs.begin(), seqs.end()));
  }
}
