// The hostile-input suite for the readers (issue 12): frames carrying forged
// block structure (class 2), damaged data directories (classes 3 and 5),
// read with the real stenoread and stenocat. Asserted everywhere: the exact
// packets where the data is intact; where it is not, a warning naming the
// file and the exit status docs/OPERATIONS.md documents; never a death by
// signal, never a hang (every run has a time limit).
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "stenotype/block_format.hpp"
#include "support/built_files.hpp"
#include "support/damage.hpp"
#include "support/forged_blocks.hpp"
#include "support/netns.hpp"
#include "support/packet_files.hpp"
#include "support/pcap_file.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype;
using namespace stenotype::test;
using namespace std::chrono_literals;
using layout = io::block_builder::layout;

namespace {

constexpr std::size_t block_kb = 64, block_size = block_kb * 1024;
constexpr std::uint64_t t0_ns = 1795773600ull * 1000000000ull; // the data sets' first packet

struct run_result {
  int rc = 0;
  std::string err;
  std::vector<long> numbers; // of the frames written, in order
  std::vector<frame_bytes> frames;
  std::size_t forged = 0;
};

// Runs a reader with a time limit, as nobody when asked (the tests run as
// root, whom permissions do not stop).
run_result run_reader(std::vector<std::string> argv, const std::string& out, bool as_nobody = false) {
  ::unlink(out.c_str());
  if (as_nobody)
    argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  run_result r;
  r.rc = run_process(argv, 30, &r.err);
  for (auto& rec : read_pcap_records(out)) {
    r.numbers.push_back(frame_number(rec.bytes));
    r.forged += is_forged(rec.bytes.data(), rec.bytes.size());
    r.frames.push_back(std::move(rec.bytes));
  }
  return r;
}

// Whatever the input: no death by a signal, no hang.
void check_survived(const run_result& r) {
  CHECK(r.rc != -1000); // killed after the time limit: it hung
  CHECK(r.rc >= 0);     // died of a signal
  CHECK(r.rc < 128);
  CHECK(r.forged == 0);
}

// Whether these bytes could pass for the header of a 4 KiB block (what the
// old detection looked for), with or without a mark.
bool looks_like_block(std::span<const std::uint8_t> head) {
  io::block_header h{};
  return io::decode_block_header(head, h) && io::valid_block_header(h, 4096) && h.num_pkts == 1;
}

// Whether a warning line of `err` names `what`.
bool warns_about(const std::string& err, const std::string& what) {
  std::size_t at = 0;
  while (at < err.size()) {
    const std::size_t end = std::min(err.find('\n', at), err.size());
    const std::string line = err.substr(at, end - at);
    if (line.find(": warning: ") != std::string::npos && line.find(what) != std::string::npos)
      return true;
    at = end + 1;
  }
  return false;
}

std::vector<long> numbers_of(const std::vector<const captured_packet*>& ps,
                             const std::function<bool(const captured_packet&)>& keep) {
  std::vector<long> out;
  for (const auto* p : ps)
    if (keep(*p))
      out.push_back(frame_number(p->bytes));
  return out;
}

// 1200 frames over two threads, 0.1 s apart: two files per thread of ~4
// blocks each. Imported once; every case damages a copy.
const data_set& pristine() {
  static temp_dir tmp;
  static const data_set d = import_data_set(STENOIMPORT_BINARY, tmp.path() + "/data", numbered_frames(1200), block_kb);
  return d;
}

struct scratch {
  temp_dir tmp;
  data_set d;
  std::string out;
  scratch() : d(copy_data_set(pristine(), tmp.path() + "/data")), out(tmp.path() + "/out/answer.pcap") {
    // For the cases run as nobody: all readable (packet files are 0600), and
    // an output folder nobody may write.
    REQUIRE(std::system(("chmod -R a+rX '" + d.dir + "'").c_str()) == 0);
    REQUIRE(::mkdir((tmp.path() + "/out").c_str(), 0755) == 0);
    REQUIRE(::chown((tmp.path() + "/out").c_str(), 65534, 65534) == 0);
  }
};

std::uint32_t packets_in_block(const data_set& d, const std::string& file, std::uint64_t block) {
  std::uint32_t n = 0;
  for (const auto& p : d.intact.packets)
    if ("PKT" + std::to_string(p.thread) + "/" + p.file == file && p.offset / d.block_size == block)
      ++n;
  return n;
}

void chmod_or_fail(const std::string& path, mode_t mode) { REQUIRE(::chmod(path.c_str(), mode) == 0); }

// The three ways stenoread reads: whole blocks for index positions (every
// packet is UDP), whole blocks for a time term, packet by packet (a tenth of
// the packets: fewer than 32 per block).
struct query_kind {
  const char* text;
  std::function<bool(const captured_packet&)> wants;
};
const query_kind queries[] = {
  {"udp", [](const captured_packet&) { return true; }},
  {"after 2026-11-27T10:00:10Z",
   [](const captured_packet& p) { return std::uint64_t{p.sec} * 1000000000u + p.nsec >= t0_ns + 10000000000ull; }},
  {"port 1000", [](const captured_packet& p) { return frame_number(p.bytes) % 10 == 0; }},
};

using damage_fn = std::function<std::vector<loss>(const data_set&, const std::string& victim)>;

} // namespace

TEST_CASE("stenoread on damaged data directories: exact survivors, the file named, the documented exit status") {
  REQUIRE_ROOT(); // (setpriv to nobody for the permission cases)
  REQUIRE(pristine().intact.files.size() == 4);
  struct row {
    const char* name;
    damage_fn damage;
    std::array<int, 3> rc; // exit status for each of `queries`; -1: not checked
    std::function<std::string(const data_set&, const std::string&)> named; // a warning must name it
    bool as_nobody = false;
    bool exact = true; // else: what comes out is intact, but not necessarily all that survived
  };
  constexpr std::array<int, 3> complete{0, 0, 0}, incomplete{3, 3, 3}, not_read{4, 4, 4};
  auto file = [](const data_set& d, const std::string& v) { return path_of(d, v); };
  auto idx = [](const data_set& d, const std::string& v) { return index_of(d, v); };
  auto nothing = [](const data_set&, const std::string&) { return std::string(); };
  const std::vector<row> rows = {
    {"intact", [](auto&, auto&) { return std::vector<loss>{}; }, complete, nothing},
    // Class 3: silent loss.
    {"cut at a block boundary", [](auto& d, auto& v) { return std::vector{cut_to(d, v, 2 * block_size)}; }, incomplete, file},
    {"cut inside a block", [](auto& d, auto& v) { return std::vector{cut_to(d, v, 2 * block_size + 1000)}; }, incomplete, file},
    {"cut inside block 0", [](auto& d, auto& v) { return std::vector{cut_to(d, v, 1000)}; }, incomplete, file},
    {"emptied", [](auto& d, auto& v) { return std::vector{cut_to(d, v, 0)}; }, incomplete, file},
    {"a directory in its place", [](auto& d, auto& v) { return std::vector{replace_with_directory(d, v)}; }, incomplete, file},
    {"a symbolic link in its place",
     [](auto& d, auto& v) {
       const std::string copy = d.dir + "/../elsewhere";
       REQUIRE(std::system(("cp '" + path_of(d, v) + "' '" + copy + "'").c_str()) == 0);
       return std::vector{replace_with_symlink(d, v, copy)};
     },
     incomplete, file},
    {"block 1's header flipped", [](auto& d, auto& v) { return std::vector{flip_bytes(d, v, block_size, 48)}; }, incomplete, file},
    {"block 2's version flipped", [](auto& d, auto& v) { return std::vector{flip_bytes(d, v, 2 * block_size, 4)}; }, incomplete, file},
    {"block 1's mark flipped", [](auto& d, auto& v) { return std::vector{flip_bytes(d, v, block_size + 48, 8)}; }, incomplete, file},
    {"block 1 announces 50 packets more than it holds (its packets are all there)",
     [](auto& d, auto& v) {
       poke_u32(d, v, block_size + 12, packets_in_block(d, v, 1) + 50);
       return std::vector<loss>{};
     },
     {3, 3, 0}, file}, // (read packet by packet, every packet is there)
    {"garbage after the last block",
     [](auto& d, auto& v) {
       append_bytes(d, v, 1000, 0x5a);
       return std::vector<loss>{};
     },
     incomplete, file},
    {"a block of zeros after the last (the index does not know it)",
     [](auto& d, auto& v) {
       append_bytes(d, v, block_size, 0);
       return std::vector<loss>{};
     },
     incomplete, file},
    {"the index promises 3 blocks more than the file holds",
     [](auto& d, auto& v) {
       rewrite_summary(d, v, [](index::file_summary& s, std::vector<index::block_times>& b) {
         s.blocks += 3;
         b.resize(s.blocks);
       });
       return std::vector<loss>{};
     },
     incomplete, file},
    {"the index of another file",
     [](auto& d, auto& v) {
       const std::string other = index_of(d, d.intact.files[1]);
       REQUIRE(std::system(("cp '" + other + "' '" + index_of(d, v) + "'").c_str()) == 0);
       return std::vector<loss>{{v, 0, UINT64_MAX}};
     },
     {3, -1, 3}, file, false, false}, // (a time query reads whole blocks: right, if out of order)
    // Class 5 and damaged indexes: the file is read by its mark, the answer complete.
    {"index summary with block size 0 (was SIGFPE)",
     [](auto& d, auto& v) {
       rewrite_summary(d, v, [](index::file_summary& s, auto&) { s.block_size = 0; });
       return std::vector<loss>{};
     },
     complete, idx},
    {"index summary of 4 KiB blocks (the file's mark says 64)",
     [](auto& d, auto& v) {
       rewrite_summary(d, v, [](index::file_summary& s, auto&) { s.block_size = 4096; });
       return std::vector<loss>{};
     },
     complete, file},
    {"index summary of 10 million blocks",
     [](auto& d, auto& v) {
       rewrite_summary(d, v, [](index::file_summary& s, auto&) { s.blocks = 10000000; });
       return std::vector<loss>{};
     },
     complete, idx},
    {"a FIFO in its place (was a hang)", [](auto& d, auto& v) { return std::vector{replace_with_fifo(d, v)}; }, incomplete, file},
    {"a FIFO in its index's place (was a hang)",
     [](auto& d, auto& v) {
       replace_with_fifo(d, "IDX" + v.substr(3)); // (the index is lost, no packet)
       return std::vector<loss>{};
     },
     complete, idx},
    {"a directory in its index's place",
     [](auto& d, auto& v) {
       replace_with_directory(d, "IDX" + v.substr(3));
       return std::vector<loss>{};
     },
     complete, idx},
    {"its index cut short",
     [](auto& d, auto& v) {
       REQUIRE(::truncate(index_of(d, v).c_str(), 100) == 0);
       return std::vector<loss>{};
     },
     complete, idx},
    {"no IDX0 folder at all",
     [](auto& d, auto&) {
       REQUIRE(std::system(("rm -rf '" + d.dir + "/IDX0'").c_str()) == 0);
       return std::vector<loss>{};
     },
     complete, file},
    // Permissions (as nobody).
    {"an unreadable packet file",
     [](auto& d, auto& v) {
       chmod_or_fail(path_of(d, v), 0600);
       return std::vector<loss>{{v, 0, UINT64_MAX}};
     },
     incomplete, file, true},
    {"an unreadable PKT0",
     [](auto& d, auto&) {
       chmod_or_fail(d.dir + "/PKT0", 0700);
       return std::vector<loss>{{d.intact.files[0], 0, UINT64_MAX}, {d.intact.files[1], 0, UINT64_MAX}};
     },
     incomplete, [](auto& d, auto&) { return d.dir + "/PKT0"; }, true},
    {"every PKT folder unreadable",
     [](auto& d, auto&) {
       chmod_or_fail(d.dir + "/PKT0", 0700);
       chmod_or_fail(d.dir + "/PKT1", 0700);
       std::vector<loss> all;
       for (const auto& f : d.intact.files)
         all.push_back({f, 0, UINT64_MAX});
       return all;
     },
     not_read, [](auto& d, auto&) { return d.dir; }, true},
    {"the data directory unreadable",
     [](auto& d, auto&) {
       chmod_or_fail(d.dir, 0700);
       std::vector<loss> all;
       for (const auto& f : d.intact.files)
         all.push_back({f, 0, UINT64_MAX});
       return all;
     },
     not_read, [](auto& d, auto&) { return d.dir; }, true},
  };
  for (const auto& r : rows) {
    scratch s;
    const std::string victim = s.d.intact.files[0];
    REQUIRE(victim.rfind("PKT0/", 0) == 0);
    const auto losses = r.damage(s.d, victim);
    const auto survivors = surviving(s.d, losses);
    for (std::size_t qi = 0; qi < std::size(queries); ++qi) {
      const auto& q = queries[qi];
      INFO(r.name << "; query '" << q.text << "'");
      const auto got = run_reader({STENOREAD_BINARY, "--dir=" + s.d.dir, q.text, "-w", s.out}, s.out, r.as_nobody);
      INFO(got.err);
      check_survived(got);
      if (r.rc[qi] >= 0)
        CHECK(got.rc == r.rc[qi]);
      const std::string named = r.named(s.d, victim);
      if (!named.empty() && r.rc[qi] > 0)
        CHECK(warns_about(got.err, named));
      else if (named.empty())
        CHECK(got.err.find("warning") == std::string::npos);
      const auto want = numbers_of(survivors, q.wants);
      if (r.exact) {
        CHECK(got.numbers == want);
      } else {
        const auto all = numbers_of(surviving(s.d, {}), q.wants);
        for (long n : got.numbers)
          CHECK(std::find(all.begin(), all.end(), n) != all.end());
      }
    }
  }
}

TEST_CASE("stenoread tells 'found nothing' from 'could not look'") {
  REQUIRE_ROOT(); // (scratch copies are made readable by nobody)
  temp_dir tmp;
  const std::string out = tmp.path() + "/out.pcap";
  auto run = [&](const std::string& dir, const char* q = "udp") {
    return run_reader({STENOREAD_BINARY, "--dir=" + dir, q, "-w", out}, out);
  };
  scratch s;
  SECTION("found nothing: exit 0, an empty answer") {
    const auto got = run(s.d.dir, "host 10.9.9.9");
    check_survived(got);
    CHECK(got.rc == 0);
    CHECK(got.numbers.empty());
    CHECK(got.err.find("warning") == std::string::npos);
  }
  SECTION("a directory without PKT<n> folders: exit 4") {
    REQUIRE(::mkdir((tmp.path() + "/empty").c_str(), 0755) == 0);
    const auto got = run(tmp.path() + "/empty");
    check_survived(got);
    CHECK(got.rc == 4);
    CHECK(got.err.find("not a stenotype data directory") != std::string::npos);
  }
  SECTION("indexes only (the PKT folders moved away): exit 4") {
    REQUIRE(std::system(("rm -rf '" + s.d.dir + "/PKT0' '" + s.d.dir + "/PKT1'").c_str()) == 0);
    const auto got = run(s.d.dir);
    check_survived(got);
    CHECK(got.rc == 4);
  }
  SECTION("a PKT folder with no files yet (a capture just started): exit 0") {
    REQUIRE(::mkdir((tmp.path() + "/fresh").c_str(), 0755) == 0);
    REQUIRE(::mkdir((tmp.path() + "/fresh/PKT0").c_str(), 0755) == 0);
    const auto got = run(tmp.path() + "/fresh");
    check_survived(got);
    CHECK(got.rc == 0);
  }
  SECTION("no such directory, or a file: a bad command line, exit 2") {
    CHECK(run(tmp.path() + "/none").rc == 2);
    CHECK(run(path_of(s.d, s.d.intact.files[0])).rc == 2);
  }
}

TEST_CASE("stenocat on damaged packet files: exact survivors, the file named, the documented exit status") {
  REQUIRE_ROOT(); // (setpriv to nobody for the permission case)
  struct row {
    const char* name;
    damage_fn damage;
    int rc;          // stenocat on every file of PKT0
    int alone_rc;    // stenocat on the victim alone
    bool named = true;
    bool as_nobody = false;
  };
  const std::vector<row> rows = {
    {"intact", [](auto&, auto&) { return std::vector<loss>{}; }, 0, 0, false},
    // stenocat reads packet files, not indexes: a file cut at a block
    // boundary is a shorter valid file to it, an emptied one an empty file,
    // which idle periods give (Google's stenotype, --index_format=stenographer).
    {"cut at a block boundary", [](auto& d, auto& v) { return std::vector{cut_to(d, v, 2 * block_size)}; }, 0, 0, false},
    {"cut inside a block", [](auto& d, auto& v) { return std::vector{cut_to(d, v, 2 * block_size + 1000)}; }, 3, 3},
    {"emptied", [](auto& d, auto& v) { return std::vector{cut_to(d, v, 0)}; }, 0, 0, false},
    {"a directory in its place", [](auto& d, auto& v) { return std::vector{replace_with_directory(d, v)}; }, 3, 4},
    {"a FIFO in its place (was a hang)", [](auto& d, auto& v) { return std::vector{replace_with_fifo(d, v)}; }, 3, 4},
    {"block 1's header flipped", [](auto& d, auto& v) { return std::vector{flip_bytes(d, v, block_size, 48)}; }, 3, 3},
    {"block 1's mark flipped", [](auto& d, auto& v) { return std::vector{flip_bytes(d, v, block_size + 48, 8)}; }, 3, 3},
    {"block 1 announces 50 packets more than it holds",
     [](auto& d, auto& v) {
       poke_u32(d, v, block_size + 12, packets_in_block(d, v, 1) + 50);
       return std::vector<loss>{};
     },
     3, 3},
    {"block 0's mark of an unknown version: read as 1 MiB blocks, of which it holds none",
     [](auto& d, auto& v) {
       poke_u32(d, v, 56, 99);
       return std::vector<loss>{{v, 0, UINT64_MAX}};
     },
     3, 3},
    {"garbage after the last block",
     [](auto& d, auto& v) {
       append_bytes(d, v, 1000, 0x5a);
       return std::vector<loss>{};
     },
     3, 3},
    {"a block of zeros after the last",
     [](auto& d, auto& v) {
       append_bytes(d, v, block_size, 0);
       return std::vector<loss>{};
     },
     3, 3},
    {"unreadable",
     [](auto& d, auto& v) {
       chmod_or_fail(path_of(d, v), 0600);
       return std::vector<loss>{{v, 0, UINT64_MAX}};
     },
     3, 4, true, true},
  };
  for (const auto& r : rows) {
    scratch s;
    const std::string victim = s.d.intact.files[0], other = s.d.intact.files[1];
    REQUIRE(other.rfind("PKT0/", 0) == 0);
    const auto losses = r.damage(s.d, victim);
    const auto survivors = surviving(s.d, losses);
    auto of = [&](const std::string& f) {
      return [f](const captured_packet& p) { return "PKT" + std::to_string(p.thread) + "/" + p.file == f; };
    };
    for (const bool alone : {false, true}) {
      INFO(r.name << (alone ? "; the victim alone" : "; every file of PKT0"));
      std::vector<std::string> argv = {STENOCAT_BINARY, "-w", s.out, path_of(s.d, victim)};
      if (!alone)
        argv.push_back(path_of(s.d, other));
      const auto got = run_reader(argv, s.out, r.as_nobody);
      INFO(got.err);
      check_survived(got);
      CHECK(got.rc == (alone ? r.alone_rc : r.rc));
      CHECK(warns_about(got.err, path_of(s.d, victim)) == r.named);
      auto want = numbers_of(survivors, of(victim));
      if (!alone) {
        const auto more = numbers_of(survivors, of(other));
        want.insert(want.end(), more.begin(), more.end());
      }
      CHECK(got.numbers == want);
    }
  }
}

TEST_CASE("forged block headers in frames are payload: imported files, read by stenocat, stenoread, stenoindex") {
  for (const std::size_t kb : {std::size_t{64}, std::size_t{1024}}) {
    INFO(kb << " KiB blocks");
    temp_dir tmp;
    auto frames = numbered_frames(1400, 1514);
    const std::size_t planted = plant_forged_blocks(frames, kb * 1024, layout::marked, 50);
    REQUIRE(planted > 200);
    const data_set d = import_data_set(STENOIMPORT_BINARY, tmp.path() + "/data", frames, kb, 1, 100, 3600);
    REQUIRE(d.intact.files.size() == 1);
    const std::string f = path_of(d, d.intact.files[0]), out = tmp.path() + "/out.pcap";
    // The trap is set: 4 KiB offsets of the file that look like block headers.
    {
      std::vector<std::uint8_t> head(io::marked_first_packet);
      const int fd = ::open(f.c_str(), O_RDONLY);
      std::size_t lookalikes = 0;
      for (std::uint64_t off = 4096; ::pread(fd, head.data(), head.size(), static_cast<off_t>(off)) == 64; off += 4096)
        if (off % (kb * 1024) != 0)
          lookalikes += looks_like_block(head);
      ::close(fd);
      CHECK(lookalikes > 100);
    }
    auto exact = [&](const run_result& r) {
      INFO(r.err);
      check_survived(r);
      CHECK(r.rc == 0);
      CHECK(r.frames == frames);
    };
    exact(run_reader({STENOCAT_BINARY, "-w", out, f}, out));
    exact(run_reader({STENOCAT_BINARY, "--blocksize_kb=4", "-w", out, f}, out)); // a wrong flag: the mark wins
    exact(run_reader({STENOREAD_BINARY, "--dir=" + d.dir, "udp", "-w", out}, out));
    exact(run_reader({STENOREAD_BINARY, "--dir=" + d.dir, "after 2026-11-27T10:00:00Z", "-w", out}, out));
    const auto none = run_reader({STENOREAD_BINARY, "--dir=" + d.dir, "host 6.6.6.6", "-w", out}, out);
    check_survived(none);
    CHECK(none.rc == 0);
    CHECK(none.frames.empty());
    // Without the index, read by the mark; then with an index rebuilt by stenoindex.
    const std::string idx = index_of(d, d.intact.files[0]);
    REQUIRE(::unlink(idx.c_str()) == 0);
    const auto scanned = run_reader({STENOREAD_BINARY, "--dir=" + d.dir, "udp", "-w", out}, out);
    INFO(scanned.err);
    CHECK(scanned.err.find("from its block mark") != std::string::npos);
    exact(scanned);
    std::string err;
    REQUIRE(run_process({STENOINDEX_BINARY, "--blocksize_kb=" + std::to_string(kb), f}, 30, &err) == 0);
    exact(run_reader({STENOREAD_BINARY, "--dir=" + d.dir, "udp", "-w", out}, out));
    // stenoindex with the wrong block size refuses instead of writing an index that fits nothing.
    CHECK(run_process({STENOINDEX_BINARY, "--blocksize_kb=4", "--force", f}, 30, &err) == 1);
    CHECK(err.find("its block mark") != std::string::npos);
  }
}

TEST_CASE("files without a mark (Google stenotype's) are read in 1 MiB blocks or --blocksize_kb, never by headers") {
  temp_dir tmp;
  const std::string pkt = tmp.path() + "/data/PKT0", out = tmp.path() + "/out.pcap";
  REQUIRE(std::system(("mkdir -p '" + pkt + "'").c_str()) == 0);
  const std::string f = pkt + "/1795773600000000";
  auto check_exact = [&](const run_result& r, const std::vector<frame_bytes>& frames) {
    INFO(r.err);
    check_survived(r);
    CHECK(r.rc == 0);
    CHECK(r.frames == frames);
  };
  SECTION("1 MiB blocks, as Google's") {
    auto frames = numbered_frames(1400, 1514);
    REQUIRE(plant_forged_blocks(frames, 1 << 20, layout::unmarked, 50) > 200);
    write_bytes(f, build_packet_file(frames, 1 << 20, layout::unmarked));
    check_exact(run_reader({STENOCAT_BINARY, "-w", out, f}, out), frames);
    const auto r = run_reader({STENOREAD_BINARY, "--dir=" + tmp.path() + "/data", "udp", "-w", out}, out);
    CHECK(r.err.find("warning: no index for " + f + "; read whole, in 1024 KiB blocks (no block mark") != std::string::npos);
    check_exact(r, frames);
  }
  SECTION("64 KiB blocks: --blocksize_kb=64 reads them; without it, a warning and nothing forged") {
    auto frames = numbered_frames(1400, 1514);
    REQUIRE(plant_forged_blocks(frames, 65536, layout::unmarked, 50) > 200);
    const auto file = build_packet_file(frames, 65536, layout::unmarked);
    REQUIRE(file.size() % (1 << 20) != 0);
    write_bytes(f, file);
    check_exact(run_reader({STENOCAT_BINARY, "--blocksize_kb=64", "-w", out, f}, out), frames);
    const auto r = run_reader({STENOCAT_BINARY, "-w", out, f}, out);
    check_survived(r);
    CHECK(r.rc == 3);
    CHECK(r.err.find("warning: " + f + " ends ") != std::string::npos);
    for (long n : r.numbers)
      CHECK((n >= 0 && n < 1400));
  }
  SECTION("--blocksize_kb out of range is a bad command line") {
    for (const char* bad : {"--blocksize_kb=3", "--blocksize_kb=6", "--blocksize_kb=1048576"}) {
      std::string err;
      CHECK(run_process({STENOCAT_BINARY, bad, f}, 10, &err) == 2);
    }
  }
}

TEST_CASE("a live capture of frames carrying forged block headers keeps them as payload") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  const std::uint32_t n = 1400;
  std::vector<frame> frames;
  for (std::uint32_t i = 0; i < n; ++i)
    frames.push_back(make_test_frame(i, 1514));
  // Planted where the kernel puts 4 KiB boundaries of 64 KiB ring blocks
  // (with our private area), past the test frame's magic and number.
  REQUIRE(plant_forged_blocks(frames, block_size, layout::marked, 26) > 200);
  background_process cap{{STENOTYPE_BINARY, "--iface=" + lab.capture_if(), "--dir=" + tmp.path(), "--blocks=64",
                          "--blocksize_kb=" + std::to_string(block_kb), "--aiops=8", "--blockage_sec=1",
                          "--filter=" + std::string(test_frame_filter), "--count=" + std::to_string(n), "-v"}};
  if (!cap.wait_for_stderr("capturing on", 10))
    FAIL("capture did not start: " << cap.stderr_text());
  lab.send(frames);
  const int rc = cap.wait(30);
  INFO(cap.stderr_text());
  REQUIRE(rc == 0);
  const auto dir = read_capture_dir(tmp.path(), block_size);
  REQUIRE(!dir.files.empty());
  CHECK(dir.problems.empty());
  // The kernel laid them out as planned: 4 KiB offsets inside blocks that
  // look like block headers.
  std::size_t lookalikes = 0;
  for (const auto& p : dir.packets)
    for (std::uint64_t b = (p.offset + io::block_builder::mac_offset) / 4096 + 1;
         b * 4096 < p.offset + io::block_builder::mac_offset + p.bytes.size(); ++b) {
      const std::size_t at = b * 4096 - p.offset - io::block_builder::mac_offset;
      if (b * 4096 % block_size != 0 && at + 64 <= p.bytes.size()
          && looks_like_block(std::span<const std::uint8_t>(p.bytes).subspan(at, 64)))
        ++lookalikes;
    }
  CHECK(lookalikes > 100);
  const std::string out = tmp.path() + "/out.pcap";
  std::vector<std::string> cat = {STENOCAT_BINARY, "-w", out};
  for (const auto& f : dir.files)
    cat.push_back(tmp.path() + "/" + f);
  for (const auto& argv : {cat, std::vector<std::string>{STENOREAD_BINARY, "--dir=" + tmp.path(),
                                                          "after 2000-01-01T00:00:00Z", "-w", out}}) {
    INFO(argv[0]);
    const auto r = run_reader(argv, out);
    INFO(r.err);
    check_survived(r);
    CHECK(r.rc == 0);
    REQUIRE(r.frames.size() == frames.size());
    for (std::size_t i = 0; i < frames.size(); ++i)
      CHECK(r.frames[i] == frames[i]);
  }
}
