// The real reader, writer and indexer actors of one capture thread, fed by an
// io::memory_source instead of the kernel's ring: no root, no network, any
// user. Files go to a temporary directory; seccomp is off.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <iterator>
#include <set>
#include <thread>

#include <caf/all.hpp>

#include "actors/indexer.hpp"
#include "actors/reader.hpp"
#include "actors/writer.hpp"
#include "io/block_builder.hpp"
#include "index/index_format.hpp"
#include "io/block_writer.hpp"
#include "io/layout.hpp"
#include "io/memory_source.hpp"
#include "stenotype/block_format.hpp"
#include "stenotype/log.hpp"
#include "support/frames.hpp"
#include "support/packet_files.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace stenotype;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t bs = 64 * 1024;
constexpr std::uint64_t blocks_per_file = (1u << 20) / bs; // --filesize_mb=1

// Block `seq`: TCP and UDP frames of varied sizes, different in every block,
// with addresses and ports that give the index keys to hold.
void fill_block(std::span<std::uint8_t> block, std::uint64_t seq) {
  io::block_builder b{block};
  for (std::uint32_t i = 0;; ++i) {
    const auto s = static_cast<std::uint8_t>(seq), n = static_cast<std::uint8_t>(i);
    const auto frame = test::frame_builder{}
                         .ipv4({10, 0, s, n}, {192, 168, 0, static_cast<std::uint8_t>(i % 7)}, i % 3 ? 6 : 17)
                         .ports(static_cast<std::uint16_t>(1024 + seq), static_cast<std::uint16_t>(80 + i % 5))
                         .payload(100 + (seq * 37 + i * 11) % 1200, s)
                         .build();
    if (!b.add(static_cast<std::uint32_t>(1'700'000'000 + seq), i * 1000, frame,
               static_cast<std::uint32_t>(frame.size())))
      break;
  }
  b.finish(seq);
}

std::vector<std::uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Final names (no hidden ones) in a directory.
std::set<std::string> final_names(const std::string& dir) {
  std::set<std::string> out;
  for (const auto id : io::list_final_ids(dir))
    out.insert(io::final_name(id));
  return out;
}

// Holds the indexer at the next block it is sent while closed: the test's
// way to make it fall behind, without timing.
class indexer_gate {
public:
  void close() {
    std::lock_guard lock{m_};
    closed_ = true;
  }
  void open() {
    {
      std::lock_guard lock{m_};
      closed_ = false;
    }
    cv_.notify_all();
  }
  // The indexer's side (indexer_init::before_block).
  void pass() {
    std::unique_lock lock{m_};
    held_ = closed_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !closed_; });
    held_ = false;
  }
  // Whether the indexer waits at the gate (within `patience`).
  bool await_held(std::chrono::seconds patience = 30s) {
    std::unique_lock lock{m_};
    return cv_.wait_for(lock, patience, [&] { return held_; });
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  bool closed_ = false, held_ = false;
};

// One capture thread -- reader, writer, indexer -- over a memory source. The
// test plays the kernel (produce) and, where it replaces an indexer, the
// supervisor: it hears the writer's `written` events as the supervisor does.
struct rootless_capture {
  explicit rootless_capture(std::uint32_t fileage_sec = 60, index_format format = index_format::native,
                            const std::function<void(capture_options&)>& adjust = {}) {
    set_log_level(log_level::warning);
    opts.index_format = format;
    opts.dir = tmp.path();
    opts.blocksize_kb = bs / 1024;
    opts.blocks = 8;
    opts.filesize_mb = 1;
    opts.fileage_sec = fileage_sec;
    opts.blockage_sec = 1;
    opts.seccomp = "none";
    // The memory source waits for the indexer instead of dropping: no
    // shedding unless a test asks for it (a budget below the ring).
    opts.index_max_blocks = opts.blocks;
    if (adjust)
      adjust(opts);
    io::make_directories(pkt_dir);
    io::make_directories(idx_dir);
    source = std::make_shared<io::memory_source>(opts.blocks, bs);
    budget = std::make_shared<index_budget>(index_budget_blocks(opts.index_max_blocks, opts.blocks));
    io::writer_config wc;
    wc.directory = pkt_dir;
    wc.block_size = bs;
    wc.aiops = 4;
    wc.grow_bytes = 4 * bs;
    wc.empty_files = rotates_idle_files(opts);
    indexer = spawn_indexer();
    writer = caf::actor_cast<writer_actor>(
      system.spawn<caf::detached>(writer_main, writer_init{0, wc, indexer, opts.seccomp, {}}));
    reader = caf::actor_cast<reader_actor>(
      system.spawn<caf::detached>(reader_main, reader_init{0, source, writer, indexer, opts, budget}));
    watch(writer);
    watch(reader);
    self->send(writer, subscribe_atom::value, caf::actor{self});
  }

  // Never leave actors running (a failed REQUIRE): the actor system would
  // wait for them forever.
  ~rootless_capture() {
    gate.open();
    if (!alive.empty())
      shut_down();
  }

  indexer_actor spawn_indexer() {
    auto fresh = caf::actor_cast<indexer_actor>(system.spawn<caf::detached>(
      indexer_main, indexer_init{0, idx_dir, static_cast<std::uint32_t>(bs), 0, opts.seccomp, {}, opts.index_format,
                                 std::chrono::milliseconds(0), budget, [this] { gate.pass(); }}));
    watch(fresh);
    return fresh;
  }

  template <class Handle>
  void watch(const Handle& h) {
    self->monitor(h);
    alive.insert(h.address());
  }

  // The next `n` blocks, each also kept in `sent`.
  void produce(std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
      const bool delivered = source->produce([&](std::span<std::uint8_t> block) {
        fill_block(block, sent.size());
        sent.emplace_back(block.begin(), block.end());
      });
      REQUIRE(delivered);
    }
  }

  std::uint64_t packets_sent() const {
    std::uint64_t n = 0;
    for (const auto& b : sent) {
      io::block_header bh{};
      REQUIRE(io::read_block_header(b, bh));
      n += bh.num_pkts;
    }
    return n;
  }

  // The writer's next `written` event (recorded in `written`, as the
  // supervisor keeps the recent ones for an indexer's replacement). The
  // patience is for a shared machine's disk: fdatasync can take seconds.
  file_event next_written(std::chrono::seconds patience = 30s) {
    bool got = false;
    self->receive(
      [&](written_atom, const file_event& ev) {
        written.push_back(ev);
        got = true;
      },
      caf::after(patience) >> [] {});
    if (!got) {
      INFO("reader " << caf::to_string(status(reader)) << "\nwriter " << caf::to_string(status(writer)));
      FAIL("no `written` within " << patience.count() << " s");
    }
    return written.back();
  }

  template <class Handle>
  caf::settings status(const Handle& h) {
    caf::settings out;
    bool answered = false;
    self->request(h, 10s, status_atom::value)
      .receive(
        [&](caf::settings& s) {
          out = std::move(s);
          answered = true;
        },
        [](caf::error&) {});
    REQUIRE(answered);
    return out;
  }

  void await_indexed(const indexer_actor& who, std::uint64_t blocks) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (caf::get_or(status(who), "next-block", std::int64_t{0}) < static_cast<std::int64_t>(blocks)) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(5ms);
    }
  }

  // Waits for the down message of `who` (other messages stay queued);
  // false when none came within `patience`.
  bool await_down(const caf::actor_addr& who, std::chrono::seconds patience = 30s) {
    for (bool got = true; got && alive.count(who);) {
      got = false;
      self->receive(
        [&](caf::down_msg& m) {
          alive.erase(m.source);
          got = true;
        },
        caf::after(patience) >> [] {});
    }
    return !alive.count(who);
  }

  // What the supervisor's restart_indexer does: the reader and the writer
  // send to `fresh` from now on (a status round trip each makes sure they
  // switched before the test goes on), and it hears of the recent files.
  void replace_indexer(indexer_actor fresh) {
    indexer = std::move(fresh);
    self->send(reader, indexer_atom::value, indexer);
    self->send(writer, indexer_atom::value, indexer);
    status(reader);
    status(writer);
    for (const auto& ev : written)
      self->send(indexer, written_atom::value, ev);
  }

  // The indexer stops dead, its open file's index lost with it.
  void kill_indexer() {
    self->send(indexer, stop_atom::value);
    REQUIRE(await_down(indexer.address()));
  }

  // A graceful stop: the reader closes the open file and sends eos; every
  // actor finishes and quits.
  void stop() { CHECK(shut_down()); }

  bool shut_down() {
    self->send(reader, stop_atom::value);
    const auto waiting = alive;
    bool all = true;
    for (const auto& who : waiting)
      all = await_down(who) && all;
    return all;
  }

  test::temp_dir tmp;
  const std::string pkt_dir = io::packet_dir(tmp.path(), 0), idx_dir = io::index_dir(tmp.path(), 0);
  capture_options opts;
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  std::shared_ptr<io::memory_source> source;
  std::shared_ptr<index_budget> budget; // the indexer's share of the ring, as spawn_pipeline makes it
  indexer_gate gate;
  indexer_actor indexer;
  writer_actor writer;
  reader_actor reader;
  std::set<caf::actor_addr> alive;
  std::vector<std::vector<std::uint8_t>> sent;
  std::vector<file_event> written;
};

// Sizes of the complete packet files in name (= time) order, in blocks.
std::vector<std::uint64_t> file_blocks(const rootless_capture& c) {
  std::vector<std::uint64_t> out;
  for (const auto& name : final_names(c.pkt_dir))
    out.push_back(slurp(c.pkt_dir + "/" + name).size() / bs);
  return out;
}

// Every complete packet file has an index equal to one rebuilt from it, and
// nothing is left hidden.
void check_indexes(const rootless_capture& c) {
  const auto cap = test::read_capture_dir(c.tmp.path(), bs);
  CHECK(cap.problems.empty());
  CHECK(cap.hidden.empty());
  CHECK(final_names(c.idx_dir) == final_names(c.pkt_dir));
  const auto bad = test::index_mismatches(c.tmp.path(), cap, bs);
  INFO(Catch::Detail::stringify(bad));
  CHECK(bad.empty());
}

// The complete packet files' bytes in name order, and the blocks produced, in order.
std::vector<std::uint8_t> files_concatenated(const rootless_capture& c) {
  std::vector<std::uint8_t> out;
  for (const auto& name : final_names(c.pkt_dir)) {
    const auto f = slurp(c.pkt_dir + "/" + name);
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

std::vector<std::uint8_t> sent_concatenated(const rootless_capture& c) {
  std::vector<std::uint8_t> out;
  for (const auto& b : c.sent)
    out.insert(out.end(), b.begin(), b.end());
  return out;
}

} // namespace

TEST_CASE("rootless pipeline: every block lands on disk byte for byte, in the order it was taken") {
  rootless_capture c;
  c.produce(2 * blocks_per_file + 5);
  c.stop();
  const std::vector<std::uint8_t> on_disk = files_concatenated(c), expected = sent_concatenated(c);
  REQUIRE(on_disk.size() == expected.size());
  CHECK(on_disk == expected);
  const auto cap = test::read_capture_dir(c.tmp.path(), bs);
  CHECK(cap.packets.size() == c.packets_sent());
  check_indexes(c);
}

TEST_CASE("rootless pipeline: a full file rotates at --filesize_mb, the stop closes the partial last one") {
  rootless_capture c;
  c.produce(2 * blocks_per_file + 3);
  // The first two files close as they fill up, while the capture runs.
  CHECK(c.next_written().blocks == blocks_per_file);
  CHECK(c.next_written().blocks == blocks_per_file);
  c.stop();
  CHECK(c.next_written().blocks == 3);
  CHECK(file_blocks(c) == std::vector<std::uint64_t>{blocks_per_file, blocks_per_file, 3});
  check_indexes(c);
}

TEST_CASE("rootless pipeline: an idle file rotates at --fileage_sec, without another block") {
  rootless_capture c{1};
  c.produce(3);
  CHECK(c.next_written().blocks == 3); // neither full nor stopped: closed by age
  c.produce(2);
  c.stop();
  CHECK(c.next_written().blocks == 2);
  CHECK(file_blocks(c) == std::vector<std::uint64_t>{3, 2});
  check_indexes(c);
}

TEST_CASE("rootless pipeline: with stenographer indexes an idle link gets an empty file at every file age") {
  rootless_capture c{1, index_format::stenographer};
  // Nothing captured: one empty packet file and a version-only index per second.
  std::vector<file_event> idle;
  for (int i = 0; i < 3; ++i)
    idle.push_back(c.next_written(10s));
  for (std::size_t i = 0; i < idle.size(); ++i) {
    INFO("idle file " << i);
    CHECK(idle[i].blocks == 0);
    CHECK(idle[i].bytes == 0);
    CHECK(slurp(idle[i].path).empty());
    if (i > 0) { // one file age apart (the reader looks at the clock every 100 ms)
      CHECK(idle[i].id - idle[i - 1].id >= 1'000'000);
      CHECK(idle[i].id - idle[i - 1].id < 1'500'000);
    }
  }
  // Then traffic: its blocks go into the file open at the time; the file
  // after it is empty again.
  c.produce(3);
  file_event busy = c.next_written(10s);
  for (int late = 0; busy.blocks == 0 && late < 3; ++late) // the disk may have been slow to tell
    busy = c.next_written(10s);
  CHECK(busy.id > idle.back().id);
  CHECK(busy.blocks == 3);
  CHECK(c.next_written(10s).blocks == 0);
  c.stop();
  // Every packet file has its index, in stenographer's format; the empty
  // ones are exactly Google's idle index (the version record alone).
  const auto idle_index = slurp(STENOTYPE_TEST_DATA_DIR "/stenographer/debian-capture/IDX0/1796170002061828");
  const auto names = final_names(c.pkt_dir);
  CHECK(names.size() >= 5);
  for (const auto& name : names) {
    INFO(name);
    CHECK(index::detect_index_format(c.idx_dir + "/" + name) == index_format::stenographer);
    if (slurp(c.pkt_dir + "/" + name).empty())
      CHECK(slurp(c.idx_dir + "/" + name) == idle_index);
  }
  check_indexes(c);
  const auto cap = test::read_capture_dir(c.tmp.path(), bs);
  CHECK(cap.packets.size() == c.packets_sent());
}

TEST_CASE("rootless pipeline: -v logs Google stenotype's stats line, field for field") {
  std::mutex m;
  std::vector<std::string> lines;
  {
    set_log_sink([&](log_level, std::string_view text) {
      std::lock_guard<std::mutex> g{m};
      lines.emplace_back(text);
    });
    rootless_capture c{60, index_format::native, [](capture_options& o) { o.stats_blocks = 2; }};
    set_log_level(log_level::info);
    for (const std::int64_t upto : {1, 3, 5}) {
      c.produce(static_cast<std::uint64_t>(upto) - c.sent.size());
      // The reader logs right after taking blocks, before it answers again.
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      while (caf::get_or(c.status(c.reader), "blocks", std::int64_t{0}) < upto) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(5ms);
      }
      c.status(c.reader);
    }
    c.stop();
    set_log_sink(nullptr);
    set_log_level(log_level::warning);
  }
  // Security Onion's telegraf script takes whitespace field 14 as drop%.
  const std::regex layout{R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z T:[0-9a-f]{6,} \[reader\.cpp:\d+\] )"
                          R"(Thread 0 stats: MB=\d+ secs=\S+ MBps=\S+ packets=\d+ blocks=\d+ polls=\d+ drops=\d+ drop%=\S+$)"};
  std::vector<std::string> stats;
  for (const auto& l : lines)
    if (l.find(" stats: ") != std::string::npos)
      stats.push_back(l);
  INFO(Catch::Detail::stringify(lines));
  REQUIRE(stats.size() == 4); // the first block, every 2 blocks, the last word at stop
  for (const auto& l : stats) {
    INFO(l);
    CHECK(std::regex_match(l, layout));
    std::istringstream fields{l};
    std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
    REQUIRE(f.size() == 14);
    CHECK(f[13].rfind("drop%=", 0) == 0);
  }
  CHECK(stats.back().find(" blocks=5 ") != std::string::npos);
}

TEST_CASE("rootless pipeline: with native indexes an idle link writes no files") {
  rootless_capture c{1};
  std::this_thread::sleep_for(2500ms);
  CHECK(final_names(c.pkt_dir).empty());
  CHECK(test::list_dir(c.pkt_dir).empty());
  c.produce(1);
  CHECK(c.next_written().blocks == 1);
  c.stop();
  CHECK(final_names(c.pkt_dir).size() == 1);
  check_indexes(c);
}

TEST_CASE("rootless pipeline: an index appears only after its packet file, both are there after stop") {
  rootless_capture c;
  // Watches the directories while the capture runs: an index under its final
  // name must never exist without its packet file. (IDX is listed first:
  // packet files never go away, so a later listing must still show it.)
  std::atomic<bool> done{false};
  std::atomic<int> looks{0};
  std::vector<std::string> orphans;
  std::thread watcher{[&] {
    while (!done) {
      const auto idx = final_names(c.idx_dir), pkt = final_names(c.pkt_dir);
      for (const auto& name : idx)
        if (!pkt.count(name))
          orphans.push_back(name);
      ++looks;
      std::this_thread::sleep_for(200us);
    }
  }};
  for (int file = 0; file < 3; ++file) {
    c.produce(blocks_per_file);
    // `written` comes once the packet file is complete under its name.
    const auto ev = c.next_written();
    CHECK(ev.path == c.pkt_dir + "/" + std::to_string(ev.id));
    CHECK(slurp(ev.path).size() == ev.bytes);
    CHECK(ev.bytes == blocks_per_file * bs);
  }
  c.stop();
  done = true;
  watcher.join();
  CHECK(looks > 0);
  CHECK(orphans.empty());
  CHECK(final_names(c.pkt_dir).size() == 3);
  check_indexes(c);
}

TEST_CASE("rootless indexer: publishes a file's index only when told the packet file is written, in either order") {
  test::temp_dir tmp;
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  auto source = std::make_shared<io::memory_source>(4, bs);
  auto indexer = caf::actor_cast<indexer_actor>(system.spawn<caf::detached>(
    indexer_main, indexer_init{0, tmp.path(), static_cast<std::uint32_t>(bs), 0, "none", {}}));
  std::uint64_t seq = 0;
  auto send_block = [&](std::uint64_t file, std::uint64_t offset) {
    REQUIRE(source->produce([&](std::span<std::uint8_t> b) { fill_block(b, seq); }));
    std::uint32_t index = 0;
    const auto block = source->try_next(index);
    REQUIRE(!block.empty());
    io::block_header bh{};
    REQUIRE(io::read_block_header(block, bh));
    self->send(indexer, block_atom::value, file, offset, io::block_handle{source, index, block, seq++, bh.num_pkts});
  };
  // A status round trip: everything sent before it has been handled.
  auto settle = [&] {
    bool answered = false;
    self->request(indexer, 10s, status_atom::value).receive([&](caf::settings&) { answered = true; },
                                                            [](caf::error&) {});
    REQUIRE(answered);
  };
  auto names = [&] { return io::list_names(tmp.path()); };
  using names_t = std::vector<std::string>;

  // close, then written (the reader's order).
  send_block(1000, 0);
  send_block(1000, bs);
  self->send(indexer, close_atom::value, std::uint64_t{1000});
  settle();
  CHECK(names() == names_t{".1000"});
  self->send(indexer, written_atom::value, file_event{0, 1000, "", 2 * bs, 2});
  settle();
  CHECK(names() == names_t{"1000"});

  // written, then close.
  send_block(2000, 0);
  self->send(indexer, written_atom::value, file_event{0, 2000, "", bs, 1});
  settle();
  CHECK(names() == names_t{"1000"});
  self->send(indexer, close_atom::value, std::uint64_t{2000});
  settle();
  CHECK(names() == names_t{"1000", "2000"});

  // Every block came back once indexed.
  CHECK(source->wait_all_returned(10s));
  CHECK(source->on_loan() == 0);
  self->monitor(indexer);
  self->send(indexer, eos_atom::value);
  bool down = false;
  self->receive([&](caf::down_msg& m) { down = !m.reason || m.reason == caf::exit_reason::normal; },
                caf::after(10s) >> [] {});
  CHECK(down);
}

TEST_CASE("rootless pipeline: a replaced indexer indexes from the packet files what its predecessor missed") {
  rootless_capture c;
  // The first indexer dies five blocks into file 1.
  c.produce(5);
  c.await_indexed(c.indexer, 5);
  c.kill_indexer();
  // File 1 completes while no indexer runs: its `written` reaches no one.
  c.produce(blocks_per_file - 5);
  const auto file1 = c.next_written();
  CHECK(!io::exists(c.idx_dir + "/" + std::to_string(file1.id)));
  // The replacement hears of file 1 again (the supervisor's replay) and
  // indexes it from disk.
  c.replace_indexer(c.spawn_indexer());
  CHECK(caf::get_or(c.status(c.indexer), "files-indexed-from-disk", std::int64_t{0}) == 1);
  CHECK(io::exists(c.idx_dir + "/" + std::to_string(file1.id)));

  // The second indexer dies six blocks into file 2, and its replacement
  // joins mid-file: file 2 is indexed from disk once written, file 3 from
  // the blocks as usual.
  c.produce(6);
  c.await_indexed(c.indexer, blocks_per_file + 6);
  c.kill_indexer();
  c.replace_indexer(c.spawn_indexer());
  c.produce(blocks_per_file - 6 + 4);
  c.next_written(); // file 2
  CHECK(caf::get_or(c.status(c.indexer), "files-indexed-from-disk", std::int64_t{0}) == 1);
  c.stop();
  CHECK(file_blocks(c) == std::vector<std::uint64_t>{blocks_per_file, blocks_per_file, 4});
  check_indexes(c);
}

TEST_CASE("rootless pipeline: an indexer that holds its share of the ring is shed, packets are not") {
  // Two of the 8 ring blocks for the indexer. The memory source, like the
  // kernel's ring, fills its blocks in ring order: with the indexer holding
  // blocks 0 and 1 the producer gets through block 7, then needs block 0.
  rootless_capture c{60, index_format::native, [](capture_options& o) { o.index_max_blocks = 2; }};
  c.gate.close();
  c.produce(1);
  REQUIRE(c.gate.await_held()); // the indexer sits on block 0 (file A, offset 0)
  c.produce(c.opts.blocks - 1); // block 1 lent (the budget is full), blocks 2-7 kept from it
  // The writer was not held back: the shed blocks are on disk and given
  // back, only the indexer's two are still out.
  REQUIRE(test::wait_until([&] { return c.source->on_loan() == 2; }, 30s));
  auto r = c.status(c.reader);
  CHECK(caf::get_or(r, "index-blocks-shed", std::int64_t{0}) == c.opts.blocks - 2);
  CHECK(caf::get_or(r, "index-files-shed", std::int64_t{0}) == 1);
  CHECK(caf::get_or(r, "index-leases-out", std::int64_t{-1}) == 2);

  // The indexer goes on: it drops what it holds of file A unread and
  // indexes A from the packet file once written. The rest of A is kept from
  // it too; file B, begun with the budget free again, is indexed from the
  // ring as usual; file C is the stop's partial one.
  c.gate.open();
  c.produce(blocks_per_file - c.opts.blocks);
  const auto a = c.next_written();
  CHECK(a.blocks == blocks_per_file);
  for (std::uint64_t i = 0; i < blocks_per_file + 4; ++i) { // at the indexer's pace: with 2 blocks it sheds easily
    c.produce(1);
    c.await_indexed(c.indexer, blocks_per_file + i + 1);
  }
  c.next_written(); // B
  CHECK(test::wait_until(
    [&] { return caf::get_or(c.status(c.indexer), "files-indexed-from-disk", std::int64_t{0}) >= 1; }, 30s));
  CHECK(io::exists(c.idx_dir + "/" + std::to_string(a.id)));
  r = c.status(c.reader);
  CHECK(caf::get_or(r, "index-blocks-shed", std::int64_t{0}) == blocks_per_file - 2);
  CHECK(caf::get_or(r, "index-files-shed", std::int64_t{0}) == 1);
  c.stop();

  // Every packet on disk, byte for byte; every file's index complete (equal
  // to one rebuilt from its packet file); A the only one built from disk.
  const std::vector<std::uint8_t> on_disk = files_concatenated(c), expected = sent_concatenated(c);
  CHECK(on_disk == expected);
  CHECK(file_blocks(c) == std::vector<std::uint64_t>{blocks_per_file, blocks_per_file, 4});
  CHECK(test::read_capture_dir(c.tmp.path(), bs).packets.size() == c.packets_sent());
  check_indexes(c);
}
