// actors/pipeline.cpp -- spawn_pipeline(): rings first, then the actors.
#include "stenotype/pipeline.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include <caf/all.hpp>

#include "actors/indexer.hpp"
#include "actors/reader.hpp"
#include "actors/retention.hpp"
#include "actors/service.hpp"
#include "actors/supervisor.hpp"
#include "actors/writer.hpp"
#include "io/block_writer.hpp"
#include "io/directory_lock.hpp"
#include "io/layout.hpp"
#include "io/ring.hpp"
#include "stenotype/error.hpp"
#include "stenotype/log.hpp"
#include "store/recovery.hpp"

namespace stenotype {

capture_actor spawn_pipeline(caf::actor_system& system, const capture_options& opts,
                             const std::function<void()>& before_start) {
  return spawn_pipeline(system, opts, before_start, {});
}

capture_actor spawn_pipeline(caf::actor_system& system, const capture_options& opts,
                             const std::function<void()>& before_start, std::vector<service_spec> services) {
  if (auto problem = validate(opts))
    throw failure(errc::bad_option, *problem);
  // Everything that can fail synchronously happens before any actor runs, so
  // a failure leaves nothing behind but empty directories.
  std::vector<std::shared_ptr<io::packet_source>> rings;
  // Held by every writer and indexer: released when the last of them ends
  // (or by the kernel when the process dies).
  auto locks = std::make_shared<std::vector<io::directory_lock>>();
  for (int i = 0; i < opts.threads; ++i) {
    io::make_directories(io::packet_dir(opts.dir, i));
    io::make_directories(io::index_dir(opts.dir, i));
    // Before recovery: another capture's open hidden file is not ours to cut.
    locks->emplace_back(io::packet_dir(opts.dir, i));
    locks->emplace_back(io::index_dir(opts.dir, i));
    // A previous run that crashed may have left hidden files: make them
    // whole before new files join them.
    store::recover_thread_dir(opts.dir, i, static_cast<std::uint32_t>(opts.block_size()),
                              opts.index ? std::optional(opts.index_format) : std::nullopt,
                              [](const std::string& line) { LOG_WARN("%s", line.c_str()); });
  }
  for (int i = 0; i < opts.threads; ++i)
    rings.push_back(std::make_shared<io::ring>(opts, i));
  if (before_start)
    before_start();

  // One for the whole capture: deletes the oldest files of every thread
  // (even with every limit off it reports what is kept, and removes the
  // orphan indexes an interrupted deletion leaves).
  retention_init ri;
  ri.directory = opts.dir;
  ri.limits = store::effective_retention(opts);
  ri.seccomp = opts.seccomp;
  ri.directory_locks = locks;
  const retention_actor retention = spawn_retention(system, ri);

  std::vector<thread_actors> threads;
  for (int i = 0; i < opts.threads; ++i) {
    thread_actors t;
    io::writer_config wc;
    wc.directory = io::packet_dir(opts.dir, i);
    wc.block_size = opts.block_size();
    wc.aiops = opts.aiops;
    wc.preallocate_bytes = std::uint64_t{opts.preallocate_file_mb} << 20;
    wc.grow_bytes = std::min<std::uint64_t>(std::uint64_t{opts.filesize_mb} << 20,
                                            64 * opts.block_size());
    wc.empty_files = rotates_idle_files(opts);
    wc.publish_extent = publishes_open_files(opts);
    // Downstream first, so every actor knows its consumers from the start.
    t.indexer_config = indexer_init{i, io::index_dir(opts.dir, i),
                                    static_cast<std::uint32_t>(opts.block_size()), opts.index_nicelevel,
                                    opts.seccomp, locks, opts.index_format,
                                    publishes_open_files(opts) ? std::chrono::milliseconds(1000)
                                                               : std::chrono::milliseconds(0),
                                    std::make_shared<index_budget>(
                                      index_budget_blocks(opts.index_max_blocks, opts.blocks))};
    if (opts.index)
      t.indexer = spawn_indexer(system, t.indexer_config);
    t.writer = caf::actor_cast<writer_actor>(
      system.spawn<caf::detached>(writer_main, writer_init{i, wc, t.indexer, opts.seccomp, locks,
                                                           ri.limits.any() ? retention : retention_actor{}}));
    t.reader = caf::actor_cast<reader_actor>(system.spawn<caf::detached>(
      reader_main, reader_init{i, rings[static_cast<std::size_t>(i)], t.writer, t.indexer, opts,
                               t.indexer_config.budget}));
    threads.push_back(t);
  }
  // stenotype's threshold: a component silent for 3 file ages is hung (but
  // never less than a stop's wait for the kernel's last block, plus margin).
  const std::uint32_t watchdog_sec =
    opts.watchdogs ? std::max(3 * opts.fileage_sec, opts.blockage_sec + 10) : 0;
  const supervisor_actor sup = system.spawn(supervisor, threads, retention, std::move(services), watchdog_sec);
  for (auto& t : threads)
    caf::anon_send(t.writer, subscribe_atom::value, caf::actor_cast<caf::actor>(sup));
  return sup;
}

} // namespace stenotype
