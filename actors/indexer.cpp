// actors/indexer.cpp -- blocks to index files, behind the writer.
//
// It runs at --index_nicelevel: when the CPU is short, indexing yields to
// the reader and writer. Its lag shows as blocks held longer, up to its share
// of the ring (actors/index_budget.hpp); past that the reader sheds the
// file's indexing, and the file is indexed here from disk once written --
// never lost packets.
#include "actors/indexer.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>
#include <stdexcept>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/end_with_failure.hpp"
#include "actors/protocol.hpp"
#include "actors/seccomp_policy.hpp"
#include "actors/thread_setup.hpp"
#include "index/block_indexer.hpp"
#include "index/index_file.hpp"
#include "stenotype/block_handle.hpp"
#include "io/layout.hpp"
#include "stenotype/error.hpp"
#include "stenotype/log.hpp"
#include "stenotype/status_keys.hpp"

namespace stenotype {
namespace {

struct indexer_state {
  explicit indexer_state(indexer_init&& in) : init(std::move(in)), builder(init.block_size) {
    if (parts_on())
      builder.enable_parts();
  }

  indexer_init init;
  index::index_builder builder;
  std::optional<std::uint64_t> current; // file being indexed
  std::set<std::uint64_t> built;        // index written hidden, packet file not yet complete
  std::map<std::uint64_t, file_event> written; // packet file complete, index not yet built
  // Files whose first blocks went to a predecessor that failed (this indexer
  // was restarted mid-file): indexed from the packet file once it is written.
  std::set<std::uint64_t> partial;
  // Files closed without a block seen here (an idle file; or all its blocks
  // went to a predecessor): indexed once the packet file is written.
  std::set<std::uint64_t> unseen;
  std::uint64_t files_indexed = 0, blocks_indexed = 0, packets_indexed = 0, files_from_disk = 0;
  std::uint64_t next_block = 0; // the reader's sequence number of the block expected next
  std::size_t peak_memory = 0;
  bool eos = false, stopped = false;

  std::string hidden(std::uint64_t id) const { return init.directory + "/" + io::hidden_name(id); }
  std::string final(std::uint64_t id) const { return init.directory + "/" + io::final_name(id); }

  using clock = std::chrono::steady_clock;
  clock::time_point last_part{}; // when the open file's last part was published
  std::uint64_t parts_written = 0;

  bool parts_on() const { return init.part_interval.count() > 0; }
  bool part_pending() const { return parts_on() && current && builder.blocks() > builder.part_first_block(); }

  // How long the mailbox may be waited on before a part is due.
  std::chrono::milliseconds part_wait() const {
    if (!part_pending())
      return std::chrono::seconds(10); // nothing to publish: wake now and then anyway
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(last_part + init.part_interval - clock::now());
    return std::max(left, std::chrono::milliseconds(0));
  }

  // The blocks indexed since the last part, as the next part. A part that
  // cannot be written (a full disk) is not the capture's problem: its blocks
  // go into the next part, or are scanned by readers, or wait for the full
  // index.
  void publish_part_if_due() {
    if (!part_pending() || clock::now() < last_part + init.part_interval)
      return;
    last_part = clock::now();
    const std::string draft = init.directory + "/" + io::part_draft_name(*current);
    const std::string name = io::part_name(*current, builder.part_first_block(), builder.blocks());
    try {
      index::write_index_entries([&](const index::entry_fn& put) { builder.for_each_part_entry(put); }, draft,
                                 index::table_use::transient);
      if (::rename(draft.c_str(), (init.directory + "/" + name).c_str()) != 0)
        throw std::runtime_error("cannot rename " + draft + ": " + std::strerror(errno));
      builder.start_part();
      ++parts_written;
    } catch (const std::exception& e) {
      ::unlink(draft.c_str());
      LOG_WARN("indexer %d: no partial index %s (%s); its blocks wait for the next one", init.thread,
               name.c_str(), e.what());
    }
  }

  // The open file's parts, once its full index is published (renamed):
  // a reader finds the one or the others.
  void remove_parts(std::uint64_t file) {
    for (const auto& c : io::list_companions(init.directory, file))
      ::unlink((init.directory + "/" + c.name()).c_str());
  }

  void on_block(std::uint64_t file, std::uint64_t offset, const io::block_handle& block) {
    next_block = block.sequence() + 1;
    if (init.before_block)
      init.before_block();
    if (init.budget && init.budget->shed_file.load(std::memory_order_relaxed) == file) {
      shed(file); // lent before the reader shed the file: dropped unread
      return;
    }
    if (current && *current != file)
      on_close(*current); // cannot happen with a well-behaved reader; stay consistent anyway
    if (!current) {
      if (offset != 0 || partial.count(file)) {
        partial.insert(file); // its start is not ours to see: read it from disk later
        return;
      }
      builder.reset();
      current = file;
      last_part = clock::now();
    }
    packets_indexed += index::index_block(builder, block.bytes(), offset);
    ++blocks_indexed;
    publish_part_if_due();
  }

  // The reader keeps the rest of `file` from this indexer (it held its share
  // of the ring, actors/index_budget.hpp): what it gathered of the file is
  // dropped, and the file is indexed from its packet file once written. The
  // parts already published stay until then (readers scan past their end).
  void shed(std::uint64_t file) {
    if (current == file) {
      peak_memory = std::max(peak_memory, builder.memory_bytes());
      builder.reset();
      current.reset();
    }
    partial.insert(file);
  }

  void on_close(std::uint64_t file) {
    if (current != file) {
      if (!partial.count(file))
        unseen.insert(file);
      return;
    }
    peak_memory = std::max(peak_memory, builder.memory_bytes());
    current.reset();
    // The full index from the builder, which holds the whole file whether
    // parts were published or not (they are copies of its state).
    index::write_index(builder, hidden(file), init.format);
    if (written.erase(file))
      publish(file);
    else
      built.insert(file);
  }

  void on_written(const file_event& ev) {
    partial.erase(ev.id);
    unseen.erase(ev.id);
    if (built.erase(ev.id))
      publish(ev.id);
    else if (current == ev.id)
      written.emplace(ev.id, ev); // published when its close arrives
    else if (ev.blocks == 0 && !io::exists(final(ev.id)))
      index_empty(ev.id); // an idle file (rotates_idle_files): no block came to index
    else if (!io::exists(final(ev.id)))
      index_from_disk(ev); // blocks missed (restarted indexer); repeated events are no-ops
  }

  void index_from_disk(const file_event& ev) {
    index::index_builder from_disk{init.block_size};
    try {
      index::index_and_publish(ev.path, from_disk, init.directory, io::final_name(ev.id), init.format);
    } catch (const failure& e) {
      // Deleted meanwhile (retention makes room): nothing to index, not a failure.
      if (e.code() != errc::not_found || io::exists(ev.path))
        throw;
      LOG_INFO("indexer %d: %s was deleted before it could be indexed", init.thread, ev.path.c_str());
      return;
    }
    remove_parts(ev.id); // a predecessor's
    ++files_indexed;
    ++files_from_disk;
    LOG_INFO("indexer %d: indexed %s from the packet file", init.thread, ev.path.c_str());
  }

  // An index without keys (stenographer's: the version record alone), for a
  // packet file without blocks. Not from `builder`: it may hold the next
  // file's blocks already.
  void index_empty(std::uint64_t id) {
    const index::index_builder none{init.block_size};
    index::write_index(none, hidden(id), init.format);
    publish(id);
  }

  void publish(std::uint64_t file) {
    io::publish(init.directory, io::hidden_name(file), io::final_name(file));
    if (parts_on())
      remove_parts(file);
    ++files_indexed;
    LOG_DEBUG("thread %d: indexed %s", init.thread, final(file).c_str());
  }

  // Blocks the reader kept from it count as handled once nothing lent is
  // left to do: the index lag (reader blocks - next-block) is what waits here.
  std::uint64_t reported_next_block() const {
    if (init.budget && init.budget->leases->outstanding() == 0)
      return std::max(next_block, init.budget->shed_next.load(std::memory_order_relaxed));
    return next_block;
  }

  bool done() const { return stopped || (eos && built.empty() && partial.empty() && unseen.empty() && !current); }

  caf::settings status() const {
    caf::settings s;
    caf::put(s, status_key::thread, init.thread);
    caf::put(s, status_key::files_indexed, static_cast<int64_t>(files_indexed));
    caf::put(s, status_key::blocks_indexed, static_cast<int64_t>(blocks_indexed));
    caf::put(s, status_key::next_block, static_cast<int64_t>(reported_next_block()));
    caf::put(s, status_key::packets_indexed, static_cast<int64_t>(packets_indexed));
    caf::put(s, status_key::open_file_keys, static_cast<int64_t>(builder.keys()));
    caf::put(s, status_key::memory_bytes, static_cast<int64_t>(builder.memory_bytes()));
    caf::put(s, status_key::peak_memory_bytes, static_cast<int64_t>(peak_memory));
    caf::put(s, status_key::awaiting_packet_file,
             static_cast<int64_t>(built.size() + partial.size() + unseen.size()));
    caf::put(s, status_key::files_indexed_from_disk, static_cast<int64_t>(files_from_disk));
    caf::put(s, status_key::partial_indexes, static_cast<int64_t>(parts_written));
    return s;
  }
};

} // namespace

void indexer_main(caf::blocking_actor* self, indexer_init init) {
  const int thread = init.thread;
  name_current_thread(("steno-index" + std::to_string(thread)).c_str());
  set_current_thread_nice(init.nice_level);
  try {
    indexer_state st{std::move(init)};
    install_seccomp(seccomp_role::indexer, st.init.seccomp);
    while (!st.done()) {
      self->receive(
        [&](block_atom, std::uint64_t file, std::uint64_t offset, const io::block_handle& block) {
          st.on_block(file, offset, block);
        },
        [&](missed_atom, std::uint64_t file, std::uint64_t) { st.shed(file); },
        [&](close_atom, std::uint64_t file) { st.on_close(file); },
        [&](written_atom, const file_event& ev) { st.on_written(ev); },
        [&](eos_atom) {
          if (st.current)
            st.on_close(*st.current);
          st.eos = true;
        },
        [&](stop_atom) { st.stopped = true; },
        [&](status_atom) { return st.status(); },
        caf::after(st.part_wait()) >> [&] { st.publish_part_if_due(); });
    }
    if (!st.built.empty())
      LOG_WARN("indexer %d: %zu index file(s) left hidden: their packet files were not completed",
               thread, st.built.size());
  } catch (const std::exception& e) {
    // The reason shows in the actor tree (`last-error`) next to the restart it caused.
    end_with_failure(self, status_key::component(status_key::indexer, thread), e);
  }
}

indexer_actor spawn_indexer(caf::actor_system& system, const indexer_init& init) {
  return caf::actor_cast<indexer_actor>(system.spawn<caf::detached>(indexer_main, init));
}

} // namespace stenotype
