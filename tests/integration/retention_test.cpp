// Disk retention, end to end: the real capture on small loop-mounted ext4
// filesystems fed several times their size of veth traffic, with each limit
// in turn. Asserted every time: the capture never stops, the limit holds
// (within about one file), every remaining packet file is complete and has
// its index, no orphan index, nothing hidden after a clean stop, and the
// newest packets are kept -- the kept ones with none missing in between.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <fcntl.h>
#include <map>
#include <random>
#include <set>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <thread>
#include <unistd.h>

#include "io/layout.hpp"
#include "support/loop_fs.hpp"
#include "support/netns.hpp"
#include "support/packet_files.hpp"
#include "support/pcap_file.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

using namespace stenotype;
using namespace stenotype::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t block_size = 64 * 1024;
constexpr std::uint64_t file_bytes = 2 << 20; // --filesize_mb=2
constexpr std::size_t frame_size = 1400;

std::vector<std::string> capture_args(const veth_lab& lab, const std::string& dir, std::vector<std::string> extra) {
  // A 16 MiB ring: the writer may wait for a deletion without the kernel dropping.
  std::vector<std::string> a = {STENOTYPE_BINARY, "--iface=" + lab.capture_if(), "--dir=" + dir,
                                "--blocks=256", "--blocksize_kb=64", "--aiops=8", "--blockage_sec=1",
                                "--fileage_sec=1", "--filesize_mb=2",
                                "--filter=" + std::string(test_frame_filter), "-v"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// Frames [from, to) of 1400 bytes, sent in batches (a batch in memory at a time).
void send_frames(const veth_lab& lab, std::uint32_t from, std::uint32_t to) {
  constexpr std::uint32_t batch = 5000;
  for (std::uint32_t b = from; b < to; b += batch) {
    std::vector<frame> frames;
    for (std::uint32_t i = b; i < std::min(to, b + batch); ++i)
      frames.push_back(make_test_frame(i, frame_size));
    lab.send(frames, 100, 1000);
  }
}

// Frames that make `mb` MiB of traffic.
std::uint32_t frames_for_mb(std::uint64_t mb) { return static_cast<std::uint32_t>((mb << 20) / frame_size); }

struct space {
  std::uint64_t total = 0, available = 0;
  double free_share() const { return static_cast<double>(available) / static_cast<double>(total); }
};

space space_of(const std::string& path) {
  struct statvfs v {};
  REQUIRE(::statvfs(path.c_str(), &v) == 0);
  return {std::uint64_t{v.f_blocks} * v.f_frsize, std::uint64_t{v.f_bavail} * v.f_frsize};
}

// The lowest free share of a filesystem while it runs, sampled every 20 ms.
class free_space_watch {
public:
  explicit free_space_watch(std::string path) : path_(std::move(path)), thread_([this] { run(); }) {}
  ~free_space_watch() { stop(); }
  double lowest() {
    stop();
    return lowest_;
  }

private:
  void run() {
    while (!done_) {
      struct statvfs v {};
      if (::statvfs(path_.c_str(), &v) == 0)
        lowest_ = std::min(lowest_, static_cast<double>(v.f_bavail) / static_cast<double>(v.f_blocks));
      std::this_thread::sleep_for(20ms);
    }
  }
  void stop() {
    done_ = true;
    if (thread_.joinable())
      thread_.join();
  }
  std::string path_;
  std::atomic<bool> done_{false};
  double lowest_ = 1;
  std::thread thread_;
};

// Disk space our files take (packet files and indexes), as retention counts it.
std::uint64_t bytes_on_disk(const std::string& dir) {
  std::uint64_t sum = 0;
  for (const int t : io::list_threads(dir))
    for (const auto& sub : {io::packet_dir(dir, t), io::index_dir(dir, t)})
      for (const auto id : io::list_final_ids(sub)) {
        struct stat st {};
        if (::stat((sub + "/" + io::final_name(id)).c_str(), &st) == 0)
          sum += static_cast<std::uint64_t>(st.st_blocks) * 512;
      }
  return sum;
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
    ++n;
  return n;
}

// The packets the kernel dropped (ring full: a busy shared machine), from
// the capture's final statistics line of each thread (-v).
// The kernel's drops over the whole capture: each thread's last statistics
// line (Google's layout, "Thread N stats: ... drops=D ...", logged at stop).
std::uint64_t kernel_drops(const std::string& log) {
  std::map<std::string, std::uint64_t> last;
  for (auto at = log.find("Thread "); at != std::string::npos; at = log.find("Thread ", at + 1)) {
    const auto eol = log.find('\n', at), stats = log.find(" stats: ", at), d = log.find(" drops=", at);
    if (stats < eol && d < eol)
      last[log.substr(at, stats - at)] = std::stoull(log.substr(d + 7));
  }
  std::uint64_t drops = 0;
  for (const auto& [thread, n] : last)
    drops += n;
  return drops;
}

// What every case asserts of the data directory after a clean stop: every
// packet file complete and indexed (the index equal to one rebuilt from
// it), no orphan index, nothing hidden; the newest frame sent is there, and
// from the oldest frame kept in any thread on, none is missing but what the
// kernel dropped (`log`: the capture's stderr). Returns the number of
// packet files.
std::size_t check_kept(const std::string& dir, std::uint32_t sent, const std::string& log) {
  const auto cap = read_capture_dir(dir, block_size);
  CHECK(cap.problems.empty());
  for (const auto& p : cap.problems)
    UNSCOPED_INFO(p);
  CHECK(cap.hidden.empty());
  for (const auto& h : cap.hidden)
    UNSCOPED_INFO("hidden: " << h);
  const auto bad = index_mismatches(dir, cap, block_size);
  CHECK(bad.empty());
  for (const auto& b : bad)
    UNSCOPED_INFO(b);
  for (const int t : io::list_threads(dir)) {
    INFO("thread " << t);
    CHECK(io::list_final_ids(io::index_dir(dir, t)) == io::list_final_ids(io::packet_dir(dir, t)));
  }
  std::map<int, long> oldest; // per thread
  std::set<long> seen;
  for (const auto& p : cap.packets) {
    const long seq = test_frame_seq(p.bytes.data(), p.bytes.size());
    REQUIRE(seq >= 0);
    CHECK(p.bytes == make_test_frame(static_cast<std::uint32_t>(seq), frame_size));
    CHECK(seen.insert(seq).second);
    auto [it, fresh] = oldest.emplace(p.thread, seq);
    if (!fresh)
      it->second = std::min(it->second, seq);
  }
  REQUIRE_FALSE(seen.empty());
  if (kernel_drops(log) == 0) // (else the newest may be among the dropped: counted below)
    CHECK(*seen.rbegin() == static_cast<long>(sent) - 1);
  long from = 0;
  for (const auto& [t, seq] : oldest)
    from = std::max(from, seq);
  std::size_t missing = 0;
  for (long s = from; s < static_cast<long>(sent); ++s)
    missing += !seen.count(s);
  INFO("kept frames " << from << ".." << sent - 1 << ", the kernel dropped " << kernel_drops(log));
  CHECK(missing <= kernel_drops(log));
  CHECK(log.find(" stats: ") != std::string::npos); // (the statistics line is there to read)
  CHECK(from > 0); // something old was deleted
  return cap.files.size();
}

std::string scrape(const std::string& port) {
  int status = -1;
  const std::string body = command_output("curl -sf http://127.0.0.1:" + port + "/metrics", &status);
  CHECK(status == 0);
  return body;
}

// The value of one sample ("name{labels} value") of a scrape; -1 if absent.
double sample(const std::string& body, const std::string& name_and_labels) {
  const auto at = body.find("\n" + name_and_labels + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(body.substr(at + name_and_labels.size() + 2));
}

void require_started(const background_process& cap) {
  const bool started = cap.wait_for_stderr("capturing on", 10);
  INFO(cap.stderr_text());
  REQUIRE(started);
}

std::string port_for(int salt) { return std::to_string(20000 + (getpid() * 7 + salt) % 40000); }

} // namespace

TEST_CASE("retention by free space: the line holds, the newest frames are readable meanwhile, the horizon is in metrics") {
  REQUIRE_ROOT();
  REQUIRE_LOOP_FS(fs, 64);
  veth_lab lab;
  const std::string dir = fs.path() + "/data", metrics = port_for(1), control = port_for(2);
  const auto start = std::time(nullptr);
  background_process cap{capture_args(lab, dir, {"--disk_free_percentage=30", "--metrics_port=" + metrics,
                                                 "--control_port=" + control})};
  require_started(cap);
  free_space_watch watch{fs.path()};
  // Three times the disk, in two parts: between them the first part's last
  // file rotates (1 s of age), and stenoread runs while the second part
  // makes the capture delete.
  const std::uint32_t first = frames_for_mb(96), all = frames_for_mb(192);
  send_frames(lab, 0, first);
  std::this_thread::sleep_for(2500ms);
  std::thread second([&] { send_frames(lab, first, all); });
  temp_dir out;
  std::string err;
  const int rc = run_process({STENOREAD_BINARY, "--dir=" + dir, "after 10m ago", "-w", out.path() + "/a.pcap"}, 60, &err);
  second.join();
  INFO(err);
  CHECK(rc == 0); // a file deleted mid-query is a warning, not damage
  std::set<long> read;
  for (const auto& r : read_pcap_records(out.path() + "/a.pcap"))
    read.insert(test_frame_seq(r.bytes.data(), r.bytes.size()));
  CHECK(read.count(first - 1)); // the newest frame when the query began
  CHECK(read.count(first - 1000));
  std::this_thread::sleep_for(2500ms); // the last file rotates; metrics refresh every second

  const std::string body = scrape(metrics);
  INFO(body.substr(body.find("stenotype_files_deleted_total") - 200, 2000));
  const std::string thread0 = "{iface=\"" + lab.capture_if() + "\",thread=\"0\"}";
  const double oldest = sample(body, "stenotype_oldest_packet_timestamp_seconds" + thread0);
  CHECK(oldest >= static_cast<double>(start));
  CHECK(oldest <= static_cast<double>(std::time(nullptr)));
  CHECK(sample(body, "stenotype_kept_files" + thread0) >= 3);
  CHECK(sample(body, "stenotype_kept_bytes" + thread0) > 3 * file_bytes);
  CHECK(sample(body, "stenotype_files_deleted_total{iface=\"" + lab.capture_if() + "\",reason=\"free-space\"}") > 10);
  CHECK(sample(body, "stenotype_files_deleted_total{iface=\"" + lab.capture_if() + "\",reason=\"file-count\"}") == 0);
  CHECK(sample(body, "stenotype_retention_limits_met{iface=\"" + lab.capture_if() + "\"}") == 1);
  int status = -1;
  const std::string stats = command_output("'" STENOTYPE_CTL_BINARY "' --port=" + control + " stats", &status);
  INFO(stats);
  CHECK(status == 0);
  CHECK(stats.find("oldest packet") != std::string::npos);
  CHECK(stats.find(" ago)") != std::string::npos);
  CHECK(stats.find("limits: 30% free") != std::string::npos);

  CHECK(cap.stop(SIGTERM, 30) == 0);
  const std::string log = cap.stderr_text();
  INFO(log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  CHECK(log.find("error") == std::string::npos);
  // Below the line only while a file (and the one reserved ahead of it) is written.
  const auto fs_space = space_of(fs.path());
  const double slack = static_cast<double>(2 * file_bytes + (1 << 20)) / static_cast<double>(fs_space.total);
  CHECK(watch.lowest() >= 0.30 - slack);
  CHECK(fs_space.free_share() >= 0.30 - slack);
  CHECK(fs_space.free_share() < 0.30 + slack); // and no more than needed went
  check_kept(dir, all, log);
}

TEST_CASE("retention by byte budget: packet and index files stay within --max_data_mb") {
  REQUIRE_ROOT();
  REQUIRE_LOOP_FS(fs, 64);
  veth_lab lab;
  const std::string dir = fs.path() + "/data";
  background_process cap{capture_args(lab, dir, {"--disk_free_percentage=0", "--max_data_mb=16"})};
  require_started(cap);
  const std::uint32_t all = frames_for_mb(160);
  std::uint64_t most = 0;
  std::atomic<bool> sending{true};
  std::thread watch([&] {
    while (sending) {
      most = std::max(most, bytes_on_disk(dir));
      std::this_thread::sleep_for(20ms);
    }
  });
  send_frames(lab, 0, all);
  std::this_thread::sleep_for(2500ms);
  sending = false;
  watch.join();
  CHECK(cap.stop(SIGTERM, 30) == 0);
  const std::string log = cap.stderr_text();
  INFO(log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  CHECK(count_of(log, "(byte-budget,") > 30);
  CHECK(log.find("(free-space,") == std::string::npos);
  // Over the budget only by the file just completed, until its check.
  CHECK(most <= (16u << 20) + file_bytes + (256 << 10));
  CHECK(bytes_on_disk(dir) <= 16u << 20);
  CHECK(bytes_on_disk(dir) > (16u << 20) - file_bytes - (256 << 10)); // and not a file more than needed went
  check_kept(dir, all, log);
}

TEST_CASE("retention by file count: --max_directory_files holds exactly") {
  REQUIRE_ROOT();
  veth_lab lab;
  temp_dir tmp;
  background_process cap{capture_args(lab, tmp.path(), {"--disk_free_percentage=0", "--max_directory_files=5"})};
  require_started(cap);
  const std::uint32_t all = frames_for_mb(30); // 15 files
  send_frames(lab, 0, all);
  std::this_thread::sleep_for(2500ms);
  CHECK(io::list_final_ids(io::packet_dir(tmp.path(), 0)).size() == 5);
  CHECK(cap.stop(SIGTERM, 30) == 0);
  const std::string log = cap.stderr_text();
  INFO(log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  CHECK(check_kept(tmp.path(), all, log) == 5);
  CHECK(count_of(log, "(file-count,") >= 9);
}

TEST_CASE("retention on a full disk: with no free-space line the writer has the oldest deleted as the disk fills, and loses nothing") {
  REQUIRE_ROOT();
  REQUIRE_LOOP_FS(fs, 48);
  veth_lab lab;
  const std::string dir = fs.path() + "/data";
  // Retention on (the file count), the free-space line off: only the
  // writer finding its disk (nearly) full makes room.
  background_process cap{capture_args(lab, dir, {"--disk_free_percentage=0"})};
  require_started(cap);
  const std::uint32_t all = frames_for_mb(150);
  send_frames(lab, 0, all);
  std::this_thread::sleep_for(2500ms);
  CHECK(cap.stop(SIGTERM, 30) == 0);
  const std::string log = cap.stderr_text();
  INFO(log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  CHECK(count_of(log, "(free-space,") > 20);
  CHECK(log.find("error") == std::string::npos);
  check_kept(dir, all, log);
}

TEST_CASE("retention: a disk filled by another program ends in the clear error, and no foreign file is deleted") {
  REQUIRE_ROOT();
  REQUIRE_LOOP_FS(fs, 48);
  veth_lab lab;
  const std::string dir = fs.path() + "/data";
  io::make_directories(io::packet_dir(dir, 0));
  REQUIRE(::chmod(dir.c_str(), 0755) == 0); // the capture runs as nobody (it takes over PKT0)
  const std::vector<std::string> foreign = {fs.path() + "/other", io::packet_dir(dir, 0) + "/notes",
                                            io::packet_dir(dir, 0) + "/.keep", io::packet_dir(dir, 0) + "/0123"};
  for (const auto& f : foreign)
    REQUIRE(std::system(("echo foreign > " + f).c_str()) == 0);
  background_process cap{capture_args(lab, dir, {})}; // the defaults: 10% free
  require_started(cap);
  send_frames(lab, 0, frames_for_mb(12));
  std::this_thread::sleep_for(2500ms);
  REQUIRE(io::list_final_ids(io::packet_dir(dir, 0)).size() >= 4);
  // Another program takes every block that becomes free, as a runaway log
  // would: the capture recycles its own oldest files until none is left.
  std::atomic<bool> hogging{true};
  int hogs = 0;
  std::thread hog([&] {
    while (hogging) {
      const auto left = space_of(fs.path()).available;
      if (left > 0) {
        const std::string f = fs.path() + "/filler" + std::to_string(hogs++);
        const int fd = ::open(f.c_str(), O_WRONLY | O_CREAT, 0600);
        if (fd >= 0) {
          ::fallocate(fd, 0, 0, static_cast<off_t>(left));
          ::close(fd);
        }
      }
      std::this_thread::sleep_for(5ms);
    }
  });
  std::thread sender([&] {
    try {
      send_frames(lab, frames_for_mb(12), frames_for_mb(200));
    } catch (const std::exception&) {
    }
  });
  const int rc = cap.wait(60);
  hogging = false;
  hog.join();
  sender.join();
  const std::string log = cap.stderr_text();
  INFO(log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  CHECK(rc == 1);
  CHECK(log.find("No space left on device") != std::string::npos);
  CHECK(log.find(io::packet_dir(dir, 0) + "/.") != std::string::npos); // names the file
  CHECK(log.find("nothing of ours left to delete") != std::string::npos);
  for (const auto& f : foreign) {
    INFO(f);
    CHECK(io::exists(f));
  }
  CHECK(io::exists(fs.path() + "/filler0"));
  CHECK(io::list_final_ids(io::packet_dir(dir, 0)).empty()); // everything of ours made room first
}

TEST_CASE("retention: kill -9 while deleting, then a restart: every file whole and indexed, no orphan, the line holds") {
  REQUIRE_ROOT();
  REQUIRE_LOOP_FS(fs, 48);
  veth_lab lab;
  const std::string dir = fs.path() + "/data";
  std::mt19937 rng(14);
  std::uint32_t sent = 0;
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    background_process cap{capture_args(lab, dir, {"--disk_free_percentage=40"})};
    require_started(cap);
    const std::uint32_t to = sent + frames_for_mb(40);
    std::thread sender([&] { send_frames(lab, sent, to); });
    // Until it deletes, then at a random moment of the deleting.
    CHECK(cap.wait_for_stderr("retention: deleted", 30));
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 1500));
    cap.stop(SIGKILL, 10);
    sender.join();
    sent = to;
  }
  // The restart: recovery, the start-up check, a clean stop.
  background_process again{capture_args(lab, dir, {"--disk_free_percentage=40"})};
  require_started(again);
  send_frames(lab, sent, sent + 2000);
  sent += 2000;
  std::this_thread::sleep_for(2500ms);
  CHECK(again.stop(SIGTERM, 30) == 0);
  INFO(again.stderr_text());
  const auto cap = read_capture_dir(dir, block_size);
  CHECK(cap.problems.empty());
  CHECK(cap.hidden.empty());
  CHECK(index_mismatches(dir, cap, block_size).empty());
  CHECK(io::list_final_ids(io::index_dir(dir, 0)) == io::list_final_ids(io::packet_dir(dir, 0)));
  std::set<long> seen;
  for (const auto& p : cap.packets) {
    const long seq = test_frame_seq(p.bytes.data(), p.bytes.size());
    REQUIRE(seq >= 0);
    CHECK(p.bytes == make_test_frame(static_cast<std::uint32_t>(seq), frame_size));
    CHECK(seen.insert(seq).second);
  }
  CHECK(seen.count(static_cast<long>(sent) - 1)); // the newest
  const auto s = space_of(fs.path());
  CHECK(s.free_share() >= 0.40 - static_cast<double>(2 * file_bytes) / static_cast<double>(s.total));
}

TEST_CASE("retention: two threads on two filesystems, only the short one loses files") {
  REQUIRE_ROOT();
  loop_fs small{48}, roomy{160};
  if (!small.ok() || !roomy.ok())
    SKIP_TEST("cannot loop-mount a filesystem here");
  veth_lab lab;
  const std::string dir = small.path() + "/data";
  // Thread 1's directories live on the roomy filesystem, as symlinks (the
  // way stenographer's server lays out one disk per thread).
  io::make_directories(dir);
  REQUIRE(::chmod(dir.c_str(), 0755) == 0); // the capture runs as nobody (it takes over PKT1, IDX1)
  for (const auto& sub : {"PKT1", "IDX1"}) {
    io::make_directories(roomy.path() + "/" + sub);
    REQUIRE(::symlink((roomy.path() + "/" + sub).c_str(), (dir + "/" + sub).c_str()) == 0);
  }
  background_process cap{capture_args(lab, dir, {"--threads=2", "--disk_free_percentage=30"})};
  require_started(cap);
  std::vector<frame> flows; // frames of many flows: the fanout spreads them over both threads
  const std::uint32_t all = frames_for_mb(100);
  for (std::uint32_t b = 0; b < all; b += 5000) {
    std::vector<frame> frames;
    for (std::uint32_t i = b; i < std::min(all, b + 5000); ++i)
      frames.push_back(make_test_frame(i, frame_size, i % 16));
    lab.send(frames, 100, 1000);
  }
  std::this_thread::sleep_for(2500ms);
  CHECK(cap.stop(SIGTERM, 30) == 0);
  const std::string log = cap.stderr_text();
  INFO(log.substr(log.size() > 4000 ? log.size() - 4000 : 0));
  CHECK(count_of(log, "retention: deleted " + dir + "/PKT0/") > 5);
  CHECK(count_of(log, "retention: deleted " + dir + "/PKT1/") == 0);
  const auto s = space_of(small.path());
  CHECK(s.free_share() >= 0.30 - static_cast<double>(2 * file_bytes) / static_cast<double>(s.total));
  CHECK(space_of(roomy.path()).free_share() > 0.30);
  const auto cap_dir = read_capture_dir(dir, block_size);
  CHECK(cap_dir.problems.empty());
  CHECK(cap_dir.hidden.empty());
  CHECK(index_mismatches(dir, cap_dir, block_size).empty());
  std::map<int, std::size_t> per_thread;
  for (const auto& p : cap_dir.packets)
    ++per_thread[p.thread];
  CHECK(per_thread[0] > 0);
  CHECK(per_thread[1] > 0);
  for (int t : {0, 1})
    CHECK(io::list_final_ids(io::index_dir(dir, t)) == io::list_final_ids(io::packet_dir(dir, t)));
}
