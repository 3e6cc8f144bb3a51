// Retention: the policy (tables of cases), the file-system side on a
// temporary directory (and, as root, on small loop-mounted ext4
// filesystems), and the actor in an actor system over a fake data directory.
#include <catch2/catch.hpp>

#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <seccomp.h>
#include <set>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <linux/ioprio.h>

#include <caf/all.hpp>

#include "actors/retention.hpp"
#include "actors/seccomp_policy.hpp"
#include "actors/thread_setup.hpp"
#include "io/block_builder.hpp"
#include "io/block_writer.hpp"
#include "io/layout.hpp"
#include "store/retention.hpp"
#include "store/retention_policy.hpp"
#include "stenotype/log.hpp"
#include "support/frames.hpp"
#include "support/loop_fs.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype;
using namespace std::chrono_literals;
using store::deletion_reason;

namespace {

// --- the policy --------------------------------------------------------------

constexpr std::uint64_t A = 1, B = 2; // devices

store::retained_file file(int thread, std::uint64_t id, std::uint64_t pkt, std::uint64_t idx = 0,
                       std::uint64_t pdev = A, std::uint64_t idev = A) {
  return {thread, id, pkt, idx, pdev, idx ? idev : 0};
}

struct deletion {
  int thread;
  std::uint64_t id;
  deletion_reason reason;
  bool operator==(const deletion&) const = default;
};

std::ostream& operator<<(std::ostream& os, const deletion& d) {
  return os << "{thread " << d.thread << ", id " << d.id << ", " << store::to_string(d.reason) << "}";
}

struct policy_case {
  const char* name;
  store::retention_limits limits;
  std::vector<store::retained_file> files;
  std::vector<store::filesystem_space> filesystems;
  std::vector<deletion> expected; // in order
  std::vector<std::uint64_t> below_line = {};
  bool budget_unmet = false;
};

constexpr std::uint64_t MiB = 1 << 20;
const store::retention_limits off{0, 0, 0};
store::retention_limits free_pct(std::uint32_t p) { return {p, 0, 0}; }
store::retention_limits files_max(std::uint64_t n) { return {0, n, 0}; }
store::retention_limits budget_mb(std::uint64_t mb) { return {0, 0, mb}; }

const std::vector<policy_case> policy_cases = {
  {"all limits off: nothing, even on a full disk", off,
   {file(0, 1, 500), file(0, 2, 500)}, {{A, 1000, 0}}, {}},
  {"the line holds: nothing", free_pct(10),
   {file(0, 1, 400), file(0, 2, 400)}, {{A, 1000, 100}}, {}},
  {"free space: the oldest files until the line holds, oldest first across threads", free_pct(10),
   {file(0, 30, 20, 10), file(1, 10, 20, 10), file(0, 20, 20, 10), file(1, 40, 20, 10), file(1, 50, 20, 10)},
   {{A, 1000, 45}}, // line 100: 55 to free, 30 per file
   {{1, 10, deletion_reason::free_space}, {0, 20, deletion_reason::free_space}}},
  {"the line is rounded up: 10% of 1001 is 101", free_pct(10),
   {file(0, 1, 1), file(0, 2, 1), file(0, 3, 1)}, {{A, 1001, 100}},
   {{0, 1, deletion_reason::free_space}}},
  {"two threads on two filesystems: only the short one loses files, even if the other's are older", free_pct(10),
   {file(0, 100, 50, 5, A, A), file(0, 200, 50, 5, A, A), file(0, 300, 50, 5, A, A),
    file(1, 1, 50, 5, B, B), file(1, 2, 50, 5, B, B)},
   {{A, 1000, 90}, {B, 1000, 500}},
   {{0, 100, deletion_reason::free_space}}},
  {"indexes on another filesystem: only index bytes count for it", free_pct(10),
   {file(0, 1, 500, 4, A, B), file(0, 2, 500, 4, A, B), file(0, 3, 500, 4, A, B), file(0, 4, 500, 4, A, B)},
   {{A, 10000, 9000}, {B, 100, 2}}, // B: 8 to free, 4 per file
   {{0, 1, deletion_reason::free_space}, {0, 2, deletion_reason::free_space}}},
  {"a disk full of foreign data and nothing of ours: empty plan, limit unmet", free_pct(10),
   {}, {{A, 1000, 0}}, {}, {A}},
  {"foreign data and ours: all but each thread's newest go, and the limit stays unmet", free_pct(10),
   {file(0, 1, 10), file(0, 2, 10), file(1, 3, 10), file(1, 4, 10)}, {{A, 1000, 5}},
   {{0, 1, deletion_reason::free_space}, {1, 3, deletion_reason::free_space}}, {A}},
  {"a file on a filesystem not listed does not help free space", free_pct(10),
   {file(0, 1, 100, 0, B), file(0, 2, 100, 0, A), file(0, 3, 100, 0, A)}, {{A, 1000, 0}},
   {{0, 2, deletion_reason::free_space}}},
  {"max_directory_files exact: the oldest surplus of each thread, no more", files_max(3),
   {file(0, 1, 1), file(0, 2, 1), file(0, 3, 1), file(0, 4, 1), file(0, 5, 1),
    file(1, 6, 1), file(1, 7, 1), file(1, 8, 1)},
   {{A, 1000, 1000}},
   {{0, 1, deletion_reason::file_count}, {0, 2, deletion_reason::file_count}}},
  {"max_directory_files=1 keeps the newest only", files_max(1),
   {file(0, 9, 1), file(0, 3, 1), file(0, 5, 1)}, {},
   {{0, 3, deletion_reason::file_count}, {0, 5, deletion_reason::file_count}}},
  {"at max_directory_files: nothing", files_max(3), {file(0, 1, 1), file(0, 2, 1), file(0, 3, 1)}, {}, {}},
  {"byte budget: the oldest across threads until packets and indexes fit", budget_mb(1),
   {file(0, 1, 300 * 1024, 10 * 1024), file(1, 2, 300 * 1024, 10 * 1024), file(0, 3, 300 * 1024, 10 * 1024),
    file(1, 4, 300 * 1024, 10 * 1024)},
   {}, // 1240 KiB > 1024: one file
   {{0, 1, deletion_reason::byte_budget}}},
  {"byte budget smaller than the newest files: they stay, flagged", budget_mb(1),
   {file(0, 1, MiB), file(0, 2, MiB), file(1, 3, MiB)}, {},
   {{0, 1, deletion_reason::byte_budget}}, {}, true},
  {"limits together: the file count frees enough, free space adds nothing", {10, 2, 0},
   {file(0, 1, 100), file(0, 2, 100), file(0, 3, 100)}, {{A, 1000, 50}},
   {{0, 1, deletion_reason::file_count}}},
  {"limits together: each deletes what it needs, reported oldest first", {10, 3, 1},
   {file(0, 1, 512 * 1024), file(0, 2, 512 * 1024), file(0, 3, 512 * 1024), file(0, 4, 512 * 1024),
    file(1, 5, 100 * 1024), file(1, 6, 100 * 1024), file(1, 7, 100 * 1024)},
   {{A, 100 * MiB, 10 * MiB - 1636 * 1024}}, // 1636 KiB short of the line: 100 KiB more than steps 1, 2 free
   {{0, 1, deletion_reason::file_count}, {0, 2, deletion_reason::byte_budget},
    {0, 3, deletion_reason::byte_budget}, {1, 5, deletion_reason::free_space}}},
};

} // namespace

TEST_CASE("retention policy: tables of cases") {
  for (const auto& c : policy_cases) {
    INFO(c.name);
    const auto plan = store::retention_policy{c.limits}.plan(c.files, c.filesystems);
    std::vector<deletion> got;
    for (const auto& d : plan.deletions)
      got.push_back({d.file.thread, d.file.id, d.reason});
    CHECK(got == c.expected);
    CHECK(plan.below_line == c.below_line);
    CHECK(plan.byte_budget_unmet == c.budget_unmet);
    CHECK(plan.limits_met() == (c.below_line.empty() && !c.budget_unmet));
  }
}

TEST_CASE("retention policy: max_directory_files holds exactly for any count") {
  for (std::uint64_t max : {1, 2, 7, 30}) {
    for (std::uint64_t n : {0, 1, 7, 8, 31, 100}) {
      std::vector<store::retained_file> files;
      for (std::uint64_t i = 0; i < n; ++i)
        files.push_back(file(static_cast<int>(i % 2), 1000 - i, 1)); // ids descending: order is the policy's job
      const auto plan = store::retention_policy{files_max(max)}.plan(files, {});
      std::map<int, std::uint64_t> left;
      for (const auto& f : files)
        ++left[f.thread];
      std::uint64_t last = 0;
      for (const auto& d : plan.deletions) {
        CHECK(d.file.id > last); // oldest first
        last = d.file.id;
        --left[d.file.thread];
      }
      for (const auto& [thread, count] : left) {
        INFO("max " << max << ", files " << n << ", thread " << thread);
        CHECK(count == std::min<std::uint64_t>(max, (n + 1 - static_cast<std::uint64_t>(thread)) / 2));
      }
    }
  }
}

TEST_CASE("retention policy: on ENOSPC the oldest file on that filesystem, the newest included") {
  const std::vector<store::retained_file> files = {file(0, 5, 1, 1, A, A), file(1, 3, 1, 1, B, A),
                                                file(1, 4, 1, 1, B, B)};
  auto pick = [&](std::uint64_t dev) { return store::retention_policy::oldest_on_filesystem(files, dev); };
  REQUIRE(pick(A));
  CHECK(pick(A)->id == 3); // its index is on A
  REQUIRE(pick(B));
  CHECK(pick(B)->id == 3);
  CHECK_FALSE(pick(7));
  const std::vector<store::retained_file> one = {file(0, 9, 1)};
  REQUIRE(store::retention_policy::oldest_on_filesystem(one, A));
  CHECK(store::retention_policy::oldest_on_filesystem(one, A)->id == 9);
  CHECK_FALSE(store::retention_policy::oldest_on_filesystem({}, A));
}

// --- the file-system side ----------------------------------------------------

namespace {

void write_bytes(const std::string& path, std::size_t n, char fill = 'x') {
  std::ofstream out(path, std::ios::binary);
  out << std::string(n, fill);
  REQUIRE(out.good());
}

// A packet file of one block whose first packet was captured at `sec`.
void write_packet_file(const std::string& path, std::uint32_t sec, std::size_t block_size = 64 * 1024) {
  std::vector<std::uint8_t> block(block_size);
  io::block_builder b{block};
  const auto frame = test::frame_builder{}.ipv4({10, 0, 0, 1}, {10, 0, 0, 2}, 17).ports(1, 2).payload(100, 1).build();
  REQUIRE(b.add(sec, 0, frame, static_cast<std::uint32_t>(frame.size())));
  REQUIRE(b.add(sec + 1, 0, frame, static_cast<std::uint32_t>(frame.size())));
  b.finish(0);
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(block.size()));
  REQUIRE(out.good());
}

// A data directory with files of ours and foreign ones around them.
struct fake_data_dir {
  explicit fake_data_dir(std::string root = {}) : dir((root.empty() ? tmp.path() : root) + "/data") {
    io::make_directories(dir);
  }

  std::string pkt(int t) const { return dir + "/PKT" + std::to_string(t); }
  std::string idx(int t) const { return dir + "/IDX" + std::to_string(t); }

  /// A complete file: packet (one block, first packet at id/1e6 s) and index.
  void add(int thread, std::uint64_t id, bool with_index = true) {
    io::make_directories(pkt(thread));
    io::make_directories(idx(thread));
    write_packet_file(pkt(thread) + "/" + std::to_string(id), static_cast<std::uint32_t>(id / 1'000'000));
    if (with_index)
      write_bytes(idx(thread) + "/" + std::to_string(id), 5000);
  }

  std::set<std::string> names(const std::string& d) const {
    const auto v = io::list_names(d);
    return {v.begin(), v.end()};
  }

  test::temp_dir tmp;
  std::string dir;
};

std::set<std::string> set_of(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }

} // namespace

TEST_CASE("retention io: only exact decimal u64 names are ours") {
  CHECK(io::parse_final_name("0") == 0u);
  CHECK(io::parse_final_name("1700000000123456") == 1700000000123456u);
  CHECK(io::parse_final_name("18446744073709551615") == 18446744073709551615u);
  for (const char* foreign : {"", "00", "0123", ".123", "123.tmp", "12a", "-1", "+1", " 1", "18446744073709551616",
                              "99999999999999999999", "lost+found"}) {
    INFO(foreign);
    CHECK_FALSE(io::parse_final_name(foreign));
  }
}

TEST_CASE("retention io: a scan sees the complete files of every thread and nothing foreign") {
  fake_data_dir d;
  d.add(0, 3'000'000);
  d.add(0, 1'000'000);
  d.add(1, 2'000'000, false);
  // Foreign or not (yet) ours: hidden files, leading zeros, other names,
  // a directory and a symlink named like files, directories like threads.
  write_bytes(d.pkt(0) + "/.4000000", 100);
  write_bytes(d.pkt(0) + "/05000000", 100);
  write_bytes(d.pkt(0) + "/notes.txt", 100);
  io::make_directories(d.pkt(0) + "/6000000");
  REQUIRE(::symlink((d.pkt(0) + "/3000000").c_str(), (d.pkt(0) + "/7000000").c_str()) == 0);
  io::make_directories(d.dir + "/PKT01");
  io::make_directories(d.dir + "/PKTX");
  write_bytes(d.dir + "/PKT9", 10); // a file, not a directory
  write_bytes(d.dir + "/README", 10);

  const auto scan = store::scan_data_dir(d.dir);
  CHECK(scan.threads == std::vector<int>{0, 1, 9});
  REQUIRE(scan.files.size() == 3);
  std::map<std::uint64_t, store::retained_file> by_id;
  for (const auto& f : scan.files)
    by_id[f.id] = f;
  REQUIRE(by_id.count(1'000'000));
  REQUIRE(by_id.count(2'000'000));
  REQUIRE(by_id.count(3'000'000));
  CHECK(by_id[1'000'000].thread == 0);
  CHECK(by_id[2'000'000].thread == 1);
  CHECK(by_id[1'000'000].packet_bytes >= 64 * 1024); // on disk
  CHECK(by_id[1'000'000].index_bytes >= 4096);
  CHECK(by_id[2'000'000].index_bytes == 0);
  CHECK(by_id[1'000'000].packet_device == store::device_of(d.dir));
  REQUIRE(scan.filesystems.size() == 1);
  CHECK(scan.filesystems[0].device == store::device_of(d.dir));
  CHECK(scan.filesystems[0].total > scan.filesystems[0].available);
  CHECK(scan.orphan_index_threads.empty());
}

TEST_CASE("retention io: the scanner notices what changed since its last scan") {
  fake_data_dir d;
  d.add(0, 1'000'000, false);
  d.add(0, 2'000'000);
  store::data_dir_scanner scanner{d.dir};
  auto first = scanner.scan();
  REQUIRE(first.files.size() == 2);
  CHECK(first.files[0].index_bytes == 0);
  // The index is published, one file deleted, one added, an index orphaned.
  write_bytes(d.idx(0) + "/1000000", 9000);
  REQUIRE(::unlink((d.pkt(0) + "/2000000").c_str()) == 0);
  d.add(0, 3'000'000);
  const auto second = scanner.scan();
  REQUIRE(second.files.size() == 2);
  CHECK(second.files[0].id == 1'000'000);
  CHECK(second.files[0].index_bytes >= 9000);
  CHECK(second.files[1].id == 3'000'000);
  CHECK(second.orphan_index_threads == std::vector<int>{0});
}

TEST_CASE("retention io: delete_file removes the packet file before the index, and tolerates ENOENT") {
  fake_data_dir d;
  d.add(0, 1);
  d.add(0, 2);
  d.add(0, 3);
  auto r = store::delete_file(d.dir, 0, 1);
  CHECK(r.packet_removed);
  CHECK(r.index_removed);
  CHECK(d.names(d.pkt(0)) == set_of({"2", "3"}));
  CHECK(d.names(d.idx(0)) == set_of({"2", "3"}));
  // Gone already (another deleter): no error.
  r = store::delete_file(d.dir, 0, 1);
  CHECK_FALSE(r.packet_removed);
  CHECK_FALSE(r.index_removed);
  // Only its index left (a deletion cut short): the index goes.
  REQUIRE(::unlink((d.pkt(0) + "/2").c_str()) == 0);
  r = store::delete_file(d.dir, 0, 2);
  CHECK_FALSE(r.packet_removed);
  CHECK(r.index_removed);
  // The order: an index that cannot be removed (a directory of that name)
  // fails the call only after the packet file is gone.
  REQUIRE(::unlink((d.idx(0) + "/3").c_str()) == 0);
  io::make_directories(d.idx(0) + "/3");
  CHECK_THROWS_WITH(store::delete_file(d.dir, 0, 3), Catch::Contains(d.idx(0) + "/3"));
  CHECK(d.names(d.pkt(0)).empty());
  // A thread without directories: nothing to do.
  r = store::delete_file(d.dir, 5, 1);
  CHECK_FALSE(r.packet_removed);
}

TEST_CASE("retention io: orphan indexes are removed, foreign and hidden files stay") {
  fake_data_dir d;
  for (std::uint64_t id : {1, 2, 3, 4})
    d.add(0, id);
  REQUIRE(::unlink((d.pkt(0) + "/1").c_str()) == 0);
  REQUIRE(::unlink((d.pkt(0) + "/3").c_str()) == 0);
  write_bytes(d.idx(0) + "/.9", 10);    // the indexer's hidden index
  write_bytes(d.idx(0) + "/007", 10);   // foreign
  write_bytes(d.idx(0) + "/notes", 10); // foreign
  CHECK(store::remove_orphan_indexes(d.dir, 0) == std::vector<std::uint64_t>{1, 3});
  CHECK(d.names(d.idx(0)) == set_of({".9", "007", "2", "4", "notes"}));
  CHECK(store::remove_orphan_indexes(d.dir, 0).empty());
  // No packet directory at all: nothing is taken for an orphan.
  io::make_directories(d.idx(3));
  write_bytes(d.idx(3) + "/5", 10);
  CHECK(store::remove_orphan_indexes(d.dir, 3).empty());
  CHECK(d.names(d.idx(3)) == set_of({"5"}));
}

TEST_CASE("retention io: the first packet's time comes from the first block header") {
  fake_data_dir d;
  d.add(0, 1'700'000'000'000'000);
  CHECK(store::first_packet_second(d.pkt(0) + "/1700000000000000") == 1'700'000'000u);
  write_bytes(d.pkt(0) + "/2", 5000, '\0');
  CHECK_FALSE(store::first_packet_second(d.pkt(0) + "/2"));
  CHECK_FALSE(store::first_packet_second(d.pkt(0) + "/3"));
  REQUIRE(::mkfifo((d.pkt(0) + "/4").c_str(), 0600) == 0);
  CHECK_FALSE(store::first_packet_second(d.pkt(0) + "/4")); // and does not hang
}

TEST_CASE("retention io: every system call of the retention thread is in its seccomp list") {
  fake_data_dir d;
  for (std::uint64_t id : {1, 2, 3})
    d.add(0, id);
  REQUIRE(::unlink((d.pkt(0) + "/3").c_str()) == 0);
  const pid_t child = fork();
  if (child == 0) {
    // The role's own filter, as the retention thread installs it (the
    // lists of every role share seccomp_policy.cpp's common calls).
    install_seccomp(seccomp_role::retention, "kill");
    set_current_thread_idle_io_priority();
    const auto scan = store::scan_data_dir(d.dir);
    const auto removed = store::remove_orphan_indexes(d.dir, 0);
    const auto r = store::delete_file(d.dir, 0, 1);
    const auto sec = store::first_packet_second(d.pkt(0) + "/2");
    const bool ok = scan.files.size() == 2 && removed.size() == 1 && r.packet_removed && sec
                    && store::filesystem_space_of(d.dir).total > 0;
    syscall(SYS_exit, ok ? 0 : 4);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  INFO("signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

// --- the actor ---------------------------------------------------------------

namespace {

struct retention_lab {
  explicit retention_lab(store::retention_limits limits) {
    set_log_level(log_level::warning);
    init.directory = data.dir;
    init.limits = limits;
    init.check_interval = 1h; // only start-up and written events check
  }
  ~retention_lab() {
    if (actor)
      stop();
  }

  void start() {
    actor = caf::actor_cast<retention_actor>(system.spawn<caf::detached>(retention_main, init));
    self->monitor(actor);
  }

  caf::settings status() {
    caf::settings out;
    self->request(actor, 10s, status_atom::value)
      .receive([&](caf::settings& s) { out = std::move(s); }, [&](caf::error& e) { FAIL(system.render(e)); });
    return out;
  }

  std::int64_t number(const caf::settings& s, const char* key) { return caf::get_or(s, key, std::int64_t{-1}); }

  /// Waits until status key `key` reaches `value`; the status then.
  caf::settings await(const char* key, std::int64_t value) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      auto s = status();
      if (number(s, key) == value)
        return s;
      INFO("status key " << key << " is " << number(s, key) << ", awaited " << value);
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(5ms);
    }
  }

  void written(int thread, std::uint64_t id) {
    self->send(actor, written_atom::value, file_event{thread, id, data.pkt(thread) + "/" + std::to_string(id), 0, 1});
  }

  bool free_request(const std::string& path) {
    bool freed = false;
    self->request(actor, 10s, free_atom::value, path)
      .receive([&](bool b) { freed = b; }, [&](caf::error& e) { FAIL(system.render(e)); });
    return freed;
  }

  void stop() {
    self->send(actor, stop_atom::value);
    bool down = false;
    self->receive([&](caf::down_msg&) { down = true; }, caf::after(10s) >> [] {});
    CHECK(down);
    actor = retention_actor{};
  }

  fake_data_dir data;
  retention_init init;
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  retention_actor actor;
};

constexpr std::uint64_t sec = 1'000'000; // ids are microseconds

// The I/O priority class of this process's thread named `name`, or -1.
int io_priority_class(const std::string& name) {
  for (const auto& tid : io::list_names("/proc/self/task")) {
    std::ifstream comm("/proc/self/task/" + tid + "/comm");
    std::string n;
    if (std::getline(comm, n) && n == name) {
      const long prio = ::syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, std::stoi(tid));
      return prio < 0 ? -1 : static_cast<int>(IOPRIO_PRIO_CLASS(prio));
    }
  }
  return -1;
}

} // namespace

TEST_CASE("retention actor: written events trigger deletions, oldest first, and status shows what is kept") {
  retention_lab lab{files_max(3)};
  for (std::uint64_t i = 1; i <= 3; ++i)
    lab.data.add(0, 1'700'000'000 * sec + i * sec);
  lab.data.add(1, 1'700'000'100 * sec);
  lab.start();
  auto s = lab.await("checks", 1);
  CHECK(lab.number(s, "files-deleted.file-count") == 0);
  CHECK(lab.number(s, "files-kept") == 4);
  CHECK(lab.number(s, "thread-0.files-kept") == 3);
  CHECK(lab.number(s, "thread-0.oldest-packet-time") == 1'700'000'001);
  CHECK(lab.number(s, "thread-1.oldest-packet-time") == 1'700'000'100);
  CHECK(lab.number(s, "thread-1.bytes-kept") > 64 * 1024);
  CHECK(caf::get_or(s, "limits-met", false));

  // Two rotations of thread 0: its two oldest files go, nothing of thread 1.
  lab.data.add(0, 1'700'000'000 * sec + 4 * sec);
  lab.data.add(0, 1'700'000'000 * sec + 5 * sec);
  lab.written(0, 1'700'000'000 * sec + 4 * sec);
  lab.written(0, 1'700'000'000 * sec + 5 * sec);
  s = lab.await("files-deleted.file-count", 2);
  CHECK(lab.number(s, "files-deleted.file-count") == 2);
  CHECK(lab.number(s, "files-deleted.free-space") == 0);
  CHECK(lab.number(s, "files-deleted.byte-budget") == 0);
  CHECK(lab.number(s, "bytes-deleted") > 2 * 64 * 1024);
  CHECK(lab.number(s, "thread-0.files-kept") == 3);
  CHECK(lab.number(s, "thread-0.oldest-packet-time") == 1'700'000'003);
  CHECK(lab.number(s, "files-kept") == 4);
  CHECK(lab.data.names(lab.data.pkt(0)) == set_of({"1700000003000000", "1700000004000000", "1700000005000000"}));
  CHECK(lab.data.names(lab.data.idx(0)) == lab.data.names(lab.data.pkt(0)));
  CHECK(lab.data.names(lab.data.pkt(1)) == set_of({"1700000100000000"}));
  CHECK(lab.number(s, "errors") == 0);
  CHECK(io_priority_class("steno-retain") == IOPRIO_CLASS_IDLE);
}

TEST_CASE("retention actor: the byte budget, orphan indexes and a thread's newest file") {
  retention_lab lab{budget_mb(1)}; // packet files of 64 KiB + 5000-byte indexes
  for (std::uint64_t i = 1; i <= 20; ++i)
    lab.data.add(static_cast<int>(i % 2), i * sec);
  write_bytes(lab.data.idx(0) + "/77", 100); // an orphan
  write_bytes(lab.data.pkt(0) + "/.99", 1 << 20); // being written: not ours to count or delete
  lab.start();
  const auto s = lab.await("checks", 1);
  CHECK(lab.number(s, "bytes-kept") <= 1 << 20);
  CHECK(lab.number(s, "bytes-kept") > (1 << 20) - 80 * 1024); // not one file more than needed
  CHECK(lab.number(s, "files-deleted.byte-budget") == 20 - lab.number(s, "files-kept"));
  CHECK(lab.number(s, "orphan-indexes-removed") == 1);
  CHECK(lab.data.names(lab.data.idx(0)).count("77") == 0);
  CHECK(lab.data.names(lab.data.pkt(0)).count(".99") == 1);
  // The oldest went: what is left is the newest of each thread.
  const auto left0 = lab.data.names(lab.data.pkt(0)), left1 = lab.data.names(lab.data.pkt(1));
  CHECK(left0.count("20000000") == 1);
  CHECK(left1.count("19000000") == 1);
  CHECK(left1.count("1000000") == 0);
}

TEST_CASE("retention actor: a free request deletes the oldest file there until nothing of ours is left") {
  retention_lab lab{files_max(100)};
  lab.data.add(0, 2 * sec);
  lab.data.add(1, 1 * sec);
  lab.data.add(0, 3 * sec);
  write_bytes(lab.data.pkt(0) + "/.4000000", 100); // being written
  write_bytes(lab.data.pkt(0) + "/foreign", 100);
  lab.start();
  CHECK(lab.free_request(lab.data.pkt(0)));
  CHECK(lab.data.names(lab.data.pkt(1)).empty()); // oldest across threads on that filesystem
  CHECK(lab.free_request(lab.data.pkt(0)));
  CHECK(lab.data.names(lab.data.pkt(0)) == set_of({".4000000", "3000000", "foreign"}));
  CHECK(lab.free_request(lab.data.pkt(0))); // each thread's newest too
  CHECK_FALSE(lab.free_request(lab.data.pkt(0)));
  CHECK(lab.data.names(lab.data.pkt(0)) == set_of({".4000000", "foreign"}));
  CHECK(lab.data.names(lab.data.idx(0)).empty());
  const auto s = lab.await("files-kept", 0); // the check after the requests
  CHECK(lab.number(s, "free-requests") == 4);
  CHECK(lab.number(s, "free-requests-refused") == 1);
  CHECK(lab.number(s, "files-deleted.free-space") == 3);
  CHECK(lab.number(s, "files-kept") == 0);
}

TEST_CASE("retention actor: with every limit off it deletes nothing, even when asked to free space") {
  retention_lab lab{off};
  lab.data.add(0, 1 * sec);
  lab.data.add(0, 2 * sec);
  lab.start();
  CHECK_FALSE(lab.free_request(lab.data.pkt(0)));
  const auto s = lab.await("checks", 1);
  CHECK(lab.number(s, "files-kept") == 2);
  CHECK(lab.data.names(lab.data.pkt(0)).size() == 2);
}

// --- on real, small, full filesystems (root) ----------------------------------

namespace {

// What the actor's check does, in the test's thread: scan, plan, delete.
store::retention_plan enforce(const std::string& dir, store::retention_limits limits) {
  const auto scan = store::scan_data_dir(dir);
  const auto plan = store::retention_policy{limits}.plan(scan.files, scan.filesystems);
  for (const auto& d : plan.deletions)
    store::delete_file(dir, d.file.thread, d.file.id);
  return plan;
}

double free_share(const std::string& path) {
  const auto fs = store::filesystem_space_of(path);
  return static_cast<double>(fs.available) / static_cast<double>(fs.total);
}

// A complete file of `mb` MiB of real blocks (fallocate: space really taken).
void add_big(fake_data_dir& d, int thread, std::uint64_t id, int mb) {
  d.add(thread, id);
  const std::string p = d.pkt(thread) + "/" + std::to_string(id);
  const int fd = ::open(p.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  REQUIRE(::fallocate(fd, 0, 0, static_cast<off_t>(mb) << 20) == 0);
  ::close(fd);
}

// Another program takes all the space left, but a page, on the filesystem of `path`.
void fill_with_other_data(const std::string& path) {
  const auto fs = store::filesystem_space_of(path.substr(0, path.rfind('/')));
  REQUIRE(std::system(("fallocate -l " + std::to_string(fs.available - 4096) + " " + path).c_str()) == 0);
}

} // namespace

TEST_CASE("retention on ext4: the line holds after deleting the oldest, foreign data untouched, two filesystems") {
  if (::geteuid() != 0)
    SKIP_TEST("needs root to loop-mount filesystems");
  test::loop_fs fs1{40}, fs2{40};
  if (!fs1.ok() || !fs2.ok())
    SKIP_TEST("cannot loop-mount a filesystem here");
  fake_data_dir d{fs1.path()};
  // Thread 1 lives on the second filesystem (a symlinked thread directory).
  io::make_directories(fs2.path() + "/PKT1");
  io::make_directories(fs2.path() + "/IDX1");
  REQUIRE(::symlink((fs2.path() + "/PKT1").c_str(), d.pkt(1).c_str()) == 0);
  REQUIRE(::symlink((fs2.path() + "/IDX1").c_str(), d.idx(1).c_str()) == 0);
  write_bytes(fs1.path() + "/foreign", 1 << 20);
  std::uint64_t id = 1;
  while (free_share(fs1.path()) > 0.14)
    add_big(d, 0, id++ * sec, 2);
  for (int i = 0; i < 5; ++i)
    add_big(d, 1, id++ * sec, 2); // older than thread 0's newest, on a roomy filesystem
  add_big(d, 0, id++ * sec, 2);
  REQUIRE(free_share(fs1.path()) < 0.10);
  const auto before = d.names(d.pkt(0));
  const auto fs1_total = static_cast<double>(store::filesystem_space_of(fs1.path()).total);

  const auto plan = enforce(d.dir, free_pct(10));
  CHECK(plan.limits_met());
  CHECK(free_share(fs1.path()) >= 0.10);
  CHECK(free_share(fs1.path()) < 0.10 + (2 << 20) * 1.05 / fs1_total); // no more than one file too many
  CHECK(d.names(d.pkt(1)).size() == 5);            // nothing from the roomy filesystem
  const auto after = d.names(d.pkt(0));
  REQUIRE(!after.empty());
  std::vector<std::uint64_t> ids_before, ids_after;
  for (const auto& n : before)
    ids_before.push_back(std::stoull(n));
  for (const auto& n : after)
    ids_after.push_back(std::stoull(n));
  std::sort(ids_before.begin(), ids_before.end());
  std::sort(ids_after.begin(), ids_after.end());
  // The oldest went: what is left is the newest tail.
  CHECK(std::equal(ids_after.rbegin(), ids_after.rend(), ids_before.rbegin()));
  CHECK(d.names(d.idx(0)) == after);
  CHECK(io::exists(fs1.path() + "/foreign"));

  // Foreign data fills the disk: everything of ours but the newest goes,
  // and the plan says the line cannot be met; the foreign files stay.
  enforce(d.dir, files_max(2));
  fill_with_other_data(fs1.path() + "/filler");
  const auto full = enforce(d.dir, free_pct(10));
  CHECK_FALSE(full.limits_met());
  CHECK(full.below_line == std::vector<std::uint64_t>{store::device_of(fs1.path())});
  CHECK(d.names(d.pkt(0)) == std::set<std::string>{std::to_string(ids_after.back())});
  CHECK(d.names(d.idx(0)) == d.names(d.pkt(0)));
  CHECK(d.names(d.pkt(1)).size() == 2); // from the file count; the free space took nothing there
  CHECK(io::exists(fs1.path() + "/filler"));
  CHECK(io::exists(fs1.path() + "/foreign"));
}

TEST_CASE("retention on ext4: the actor keeps the line as files arrive, and frees space on request") {
  if (::geteuid() != 0)
    SKIP_TEST("needs root to loop-mount filesystems");
  REQUIRE_LOOP_FS(fs, 40);
  retention_lab lab{free_pct(20)};
  // The lab's directory is on the root filesystem: use one on the loop one.
  fake_data_dir d{fs.path()};
  lab.init.directory = d.dir;
  lab.start();
  lab.await("checks", 1); // the start-up check: from now on, one per event
  for (std::uint64_t i = 1; i <= 30; ++i) {
    add_big(d, 0, i * sec, 2);
    lab.written(0, i * sec);
    lab.await("checks", static_cast<std::int64_t>(i) + 1);
    CHECK(free_share(fs.path()) >= 0.20); // below the line only until the check
  }
  auto s = lab.await("checks", 31);
  CHECK(free_share(fs.path()) >= 0.20);
  CHECK(lab.number(s, "files-deleted.free-space") > 10);
  CHECK(lab.number(s, "files-kept") == static_cast<std::int64_t>(d.names(d.pkt(0)).size()));
  CHECK(d.names(d.pkt(0)).count("30000000") == 1);
  CHECK(lab.free_request(d.pkt(0)));
  s = lab.await("free-requests", 1);
  CHECK(lab.number(s, "files-deleted.free-space") > 11);

  // Other data fills the disk: the newest file stays, and status says the
  // line cannot be held and where.
  while (d.names(d.pkt(0)).size() > 2)
    REQUIRE(lab.free_request(d.pkt(0)));
  fill_with_other_data(fs.path() + "/filler");
  const auto checks = lab.number(lab.status(), "checks");
  lab.written(0, 30 * sec);
  s = lab.await("checks", checks + 1);
  CHECK(d.names(d.pkt(0)) == set_of({"30000000"}));
  CHECK_FALSE(caf::get_or(s, "limits-met", true));
  const auto below = caf::get_if<caf::config_value::list>(&s, "filesystems-below-line");
  REQUIRE(below);
  REQUIRE(below->size() == 1);
  const auto* dir = caf::get_if<std::string>(&(*below)[0]);
  REQUIRE(dir);
  CHECK(dir->find(fs.path()) == 0);
  CHECK(io::exists(fs.path() + "/filler"));
  CHECK(lab.number(s, "errors") == 0);
}

TEST_CASE("retention on ext4: a nearly full disk loses its oldest files until the writer's step fits, no more") {
  if (::geteuid() != 0)
    SKIP_TEST("needs root to loop-mount filesystems");
  REQUIRE_LOOP_FS(fs, 40);
  retention_lab lab{files_max(100)}; // retention on; no free-space line
  fake_data_dir d{fs.path()};
  lab.init.directory = d.dir;
  for (std::uint64_t i = 1; i <= 8; ++i)
    add_big(d, static_cast<int>(i % 2), i * sec, 2);
  lab.start();
  lab.await("checks", 1);
  // A writer reserved its step and finds 3 MiB short of the next one: two
  // files of 2 MiB go (the oldest, across threads), not a third.
  const auto want = store::filesystem_space_of(d.pkt(0)).available + (3 << 20);
  lab.self->send(lab.actor, free_atom::value, d.pkt(0), static_cast<std::uint64_t>(want));
  const auto s = lab.await("headroom-requests", 1);
  CHECK(lab.number(s, "files-deleted.free-space") == 2);
  CHECK(d.names(d.pkt(1)).count("1000000") == 0);
  CHECK(d.names(d.pkt(0)).count("2000000") == 0);
  CHECK(d.names(d.pkt(1)).count("3000000") == 1);
  CHECK(lab.number(s, "free-requests") == 0); // nobody waited for it
}
