// bench/pipeline_bench.cpp -- the capture pipeline without a NIC.
//
// Pre-built TPACKET_V3 blocks in memory (io::memory_source) stand in for the
// kernel's ring, and the real reader, writer and indexer actors take them
// from there: file plan, one block handle to the writer and one to the
// indexer, a block reused only when both gave it back, O_DIRECT packet files
// and their indexes in --dir, exactly as in a capture. What this measures is
// the pipeline's own ceiling -- index + O_DIRECT write -- to put next to the
// disk's sequential O_DIRECT write bandwidth (fio, same directory, same run:
// bench/run.sh).
//
//   pipeline_bench --dir D [--gib 4] [--mix 64|1514|imix] [--no_index]
//                  [--blocks 256] [--aiops 128] [--filesize_mb 4096]
//
// Prints one markdown table row: packets, GiB, seconds, Mpkt/s, MB/s, and
// CPU seconds of the writer, the indexer and the whole process.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <unistd.h>
#include <string>
#include <sys/resource.h>

#include <caf/all.hpp>

#include "actors/indexer.hpp"
#include "actors/reader.hpp"
#include "actors/writer.hpp"
#include "bench/traffic.hpp"
#include "io/block_writer.hpp"
#include "io/layout.hpp"
#include "io/memory_source.hpp"
#include "stenotype/block_format.hpp"
#include "stenotype/log.hpp"
#include "stenotype/protocol.hpp"

using namespace stenotype;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t block_size = 1 << 20;

double cpu_seconds(const std::string& stat_path) {
  std::ifstream f(stat_path);
  std::string line;
  std::getline(f, line);
  // Fields after the command name in parentheses: utime is the 14th field.
  const auto close = line.rfind(')');
  if (close == std::string::npos)
    return 0;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; rest >> field; ++i) {
    if (i == 14)
      utime = std::stoull(field);
    if (i == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds so far of this process's thread called `name`.
double thread_cpu(const std::string& name) {
  double total = 0;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (auto* e = ::readdir(d)) {
      if (e->d_name[0] == '.')
        continue;
      const std::string task = std::string("/proc/self/task/") + e->d_name;
      std::ifstream comm(task + "/comm");
      std::string c;
      std::getline(comm, c);
      if (c == name)
        total += cpu_seconds(task + "/stat");
    }
    ::closedir(d);
  }
  return total;
}

double process_cpu() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
         + static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

} // namespace

int main(int argc, char** argv) {
  std::string dir, mix_name = "1514";
  double gib = 4;
  bool index = true;
  std::uint32_t ring_blocks = 256, aiops = 128, filesize_mb = 4096;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--dir")
      dir = next();
    else if (a == "--gib")
      gib = std::stod(next());
    else if (a == "--mix")
      mix_name = next();
    else if (a == "--no_index")
      index = false;
    else if (a == "--blocks")
      ring_blocks = static_cast<std::uint32_t>(std::stoul(next()));
    else if (a == "--aiops")
      aiops = static_cast<std::uint32_t>(std::stoul(next()));
    else if (a == "--filesize_mb")
      filesize_mb = static_cast<std::uint32_t>(std::stoul(next()));
    else {
      std::fprintf(stderr, "pipeline_bench: unknown argument '%s'\n", a.c_str());
      return 2;
    }
  }
  if (dir.empty() || ring_blocks == 0) {
    std::fprintf(stderr, "usage: pipeline_bench --dir D [--gib N] [--mix 64|1514|imix] [--no_index] "
                         "[--blocks N] [--aiops N] [--filesize_mb N]\n");
    return 2;
  }
  const auto mix = mix_name == "64" ? bench::frame_mix::small64
                   : mix_name == "imix" ? bench::frame_mix::imix
                                        : bench::frame_mix::large1514;
  const auto distinct = bench::build_blocks(mix, 64, 12000, block_size);
  std::vector<std::uint32_t> packets_in(distinct.size());
  for (std::size_t i = 0; i < distinct.size(); ++i) {
    io::block_header bh{};
    io::read_block_header(distinct[i], bh);
    packets_in[i] = bh.num_pkts;
  }
  const auto total_blocks = static_cast<std::uint64_t>(gib * 1024);

  capture_options opts;
  opts.dir = dir;
  opts.blocksize_kb = block_size >> 10;
  opts.blocks = ring_blocks;
  opts.aiops = aiops;
  opts.filesize_mb = filesize_mb;
  opts.fileage_sec = 3600; // files rotate by size only
  opts.index = index;
  opts.index_nicelevel = 10;
  opts.index_max_blocks = ring_blocks; // measures the indexer's pace: never shed (the producer waits instead)
  opts.seccomp = "none";

  set_log_level(log_level::warning);
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  io::writer_config wc;
  wc.directory = io::packet_dir(dir, 0);
  wc.block_size = block_size;
  wc.aiops = aiops;
  wc.grow_bytes = std::min<std::uint64_t>(std::uint64_t{filesize_mb} << 20, 64 * block_size);
  io::make_directories(wc.directory);
  io::make_directories(io::index_dir(dir, 0));
  indexer_actor indexer;
  if (index)
    indexer = caf::actor_cast<indexer_actor>(system.spawn<caf::detached>(
      indexer_main, indexer_init{0, io::index_dir(dir, 0), static_cast<std::uint32_t>(block_size),
                                 opts.index_nicelevel, opts.seccomp, {}}));
  auto writer = caf::actor_cast<writer_actor>(
    system.spawn<caf::detached>(writer_main, writer_init{0, wc, indexer, opts.seccomp, {}}));
  auto source = std::make_shared<io::memory_source>(ring_blocks, block_size);
  auto reader = caf::actor_cast<reader_actor>(
    system.spawn<caf::detached>(reader_main, reader_init{0, source, writer, indexer, opts}));

  caf::scoped_actor self{system};
  self->monitor(reader);
  self->monitor(writer);
  if (indexer)
    self->monitor(indexer);

  const double cpu0 = process_cpu();
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t packets = 0;
  bool stalled = false; // the reader took no block for a minute: it failed
  for (std::uint64_t seq = 0; seq < total_blocks; ++seq) {
    // The ring's blocks cycle through the distinct contents: each is copied
    // in once, at its first use, as the kernel's would be filled.
    if (!source->produce([&](std::span<std::uint8_t> block) {
          if (seq < ring_blocks)
            std::memcpy(block.data(), distinct[seq % distinct.size()].data(), block_size);
        })) {
      stalled = true;
      break;
    }
    packets += packets_in[seq % ring_blocks % distinct.size()];
  }
  // Per-thread CPU while they still run: once the indexer has seen every
  // block (the writer's tail, the last file's sync, is small).
  for (bool caught_up = !indexer || stalled; !caught_up;) {
    self->request(indexer, std::chrono::seconds(10), status_atom::value)
      .receive([&](const caf::settings& st) { caught_up = caf::get_or(st, "next-block", int64_t{0}) >= static_cast<int64_t>(total_blocks); },
               [&](const caf::error&) { caught_up = true; });
    if (!caught_up)
      std::this_thread::sleep_for(1ms);
  }
  const double writer_cpu = thread_cpu("steno-write0"), indexer_cpu = thread_cpu("steno-index0");
  self->send(reader, stop_atom::value); // closes the last file, then eos downstream
  if (stalled) { // the reader may be gone: end its consumers directly
    self->send(writer, eos_atom::value);
    if (indexer)
      self->send(indexer, eos_atom::value);
  }
  int downs = 0, failed = stalled ? 1 : 0;
  self->receive_for(downs, indexer ? 3 : 2)([&](caf::down_msg& m) {
    if (m.reason && m.reason != caf::exit_reason::normal)
      ++failed;
  });
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = process_cpu() - cpu0;
  if (failed) {
    std::fprintf(stderr, "pipeline_bench: the pipeline failed (see above)\n");
    return 1;
  }
  const double bytes = static_cast<double>(total_blocks * block_size);
  std::printf("| %s | %s | %llu | %.2f | %.2f | %.2f | %.0f | %.2f | %.2f | %.2f |\n", mix_name.c_str(),
              index ? "on" : "off", static_cast<unsigned long long>(packets), bytes / (1 << 30), secs,
              static_cast<double>(packets) / secs / 1e6, bytes / secs / 1e6, writer_cpu, indexer_cpu, cpu);
  return 0;
}
