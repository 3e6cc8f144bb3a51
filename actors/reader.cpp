// actors/reader.cpp -- the ring's owner.
//
// The loop takes every ready block, then waits in poll() until the kernel
// retires the next one (io::ring::wait; no fixed sleep per block as in
// stenotype, which capped its throughput), with a short timeout so that
// control messages and age-based rotation are served on an idle link too.
#include "actors/reader.hpp"

#include <chrono>

#include <caf/all.hpp>

#include "actors/clock.hpp"
#include "actors/end_with_failure.hpp"
#include "actors/log_throttle.hpp"
#include "actors/protocol.hpp"
#include "actors/seccomp_policy.hpp"
#include "actors/thread_setup.hpp"
#include "stenotype/block_format.hpp"
#include "io/file_plan.hpp"
#include "io/lease_pool.hpp"
#include "stenotype/log.hpp"
#include "stenotype/status_keys.hpp"

namespace stenotype {
namespace {

using namespace std::chrono_literals;

// How long the reader waits in poll() before looking at its mailbox and the
// clock: bounds the latency of stop/status requests and of age rotation.
// An idle capture wakes this often (5 times a second: ~0.1 ms of CPU).
constexpr auto poll_timeout = 200ms;

// An analysis actor that gets blocks on bounded loan.
struct block_subscriber {
  caf::actor who;
  std::shared_ptr<io::lease_pool> leases;
  std::uint64_t lent = 0, skipped = 0;
};

struct reader_state {
  explicit reader_state(reader_init&& in)
    : init(std::move(in)),
      plan(init.opts.block_size(), std::uint64_t{init.opts.filesize_mb} << 20,
           std::uint64_t{init.opts.fileage_sec} * 1000000u, rotates_idle_files(init.opts)),
      budget(init.budget ? init.budget
                         : std::make_shared<index_budget>(
                             index_budget_blocks(init.opts.index_max_blocks, init.opts.blocks))) {}

  reader_init init;
  io::file_plan plan;
  std::uint64_t sequence = 0;     // blocks handed out
  std::uint64_t packets = 0;      // packets in those blocks
  std::uint64_t kernel_packets = 0, kernel_drops = 0, freezes = 0; // cumulative
  std::uint64_t started_us = steady_micros();
  std::uint64_t last_stats_us = started_us, last_stats_blocks = 0;
  bool stopping = false;
  std::vector<block_subscriber> subscribers;

  // Shedding (actors/index_budget.hpp): the file whose blocks the indexer
  // does not get, and the counts. An episode runs from the first block kept
  // from the indexer to the next one it gets again.
  std::shared_ptr<index_budget> budget;
  std::uint64_t shed_file = index_budget::no_file;
  std::uint64_t blocks_shed = 0, files_shed = 0;
  std::uint64_t episode_blocks = 0, episode_files = 0;
  bool shedding = false;
  log_throttle shed_log{4, std::chrono::minutes(1)}; // an indexer that flaps at every file: a few lines a minute

  // Same message to the indexer (if indexing) and the writer, in that order:
  // local sends enqueue at once, so the indexer always has a file's `close`
  // before the writer can answer it with `written`.
  template <class... Ts>
  void send_downstream(caf::blocking_actor* self, const Ts&... xs) {
    if (init.indexer)
      self->send(init.indexer, xs...);
    self->send(init.writer, xs...);
  }

  // The writer gets every block; the indexer one lent from its budget or,
  // once it holds the whole budget, a `missed` for the block's file and none
  // of that file's later blocks: it indexes the file from disk once written.
  // Indexer first, as in send_downstream.
  void hand_out(caf::blocking_actor* self, const io::block_slot& slot, const io::block_handle& block) {
    if (init.indexer)
      offer_to_indexer(self, slot, block);
    self->send(init.writer, block_atom::value, slot.file_id, slot.offset, block);
  }

  void offer_to_indexer(caf::blocking_actor* self, const io::block_slot& slot, const io::block_handle& block) {
    if (slot.file_id != shed_file) {
      if (auto lease = budget->leases->lend(block)) {
        if (shedding)
          end_shedding_episode();
        self->send(init.indexer, block_atom::value, slot.file_id, slot.offset, std::move(lease));
        return;
      }
      shed_file = slot.file_id;
      budget->shed_file.store(shed_file, std::memory_order_relaxed);
      self->send(init.indexer, missed_atom::value, slot.file_id, slot.offset);
      ++files_shed;
      ++episode_files;
      if (!shedding) {
        shedding = true;
        std::uint64_t left_out = 0;
        if (shed_log.admit(left_out))
          LOG_WARN("thread %d: the indexer holds its %u ring blocks; indexing of file %llu is shed from block %llu "
                   "on (no packet is lost: the file is indexed from disk once written)%s",
                   init.thread, budget->leases->outstanding(), static_cast<unsigned long long>(slot.file_id),
                   static_cast<unsigned long long>(slot.offset / init.ring->block_size()),
                   log_throttle::note(left_out).c_str());
      }
    }
    ++blocks_shed;
    ++episode_blocks;
    budget->shed_next.store(block.sequence() + 1, std::memory_order_relaxed);
  }

  void end_shedding_episode() {
    std::uint64_t left_out = 0;
    if (shed_log.admit(left_out))
      LOG_INFO("thread %d: the indexer gets blocks again, after %llu block(s) of %llu file(s) kept from it%s",
               init.thread, static_cast<unsigned long long>(episode_blocks),
               static_cast<unsigned long long>(episode_files), log_throttle::note(left_out).c_str());
    shedding = false;
    episode_blocks = episode_files = 0;
  }

  void rotate_if_due(caf::blocking_actor* self) {
    if (auto closed = plan.due(wall_micros()))
      send_downstream(self, close_atom::value, *closed);
  }

  // Hands out every block the kernel has retired. Returns how many.
  std::size_t take_ready(caf::blocking_actor* self) {
    std::size_t n = 0;
    std::uint32_t index;
    for (auto block = init.ring->try_next(index); !block.empty();
         block = init.ring->try_next(index)) {
      io::write_block_mark(block); // ours now, until released: say what it is before it is written
      io::block_header bh{};
      if (!io::read_block_header(block, bh)) // never from a live kernel; count nothing
        bh.num_pkts = 0;
      rotate_if_due(self);
      const io::block_slot slot = plan.place(wall_micros());
      const io::block_handle handle{init.ring, index, block, sequence++, bh.num_pkts};
      packets += bh.num_pkts;
      hand_out(self, slot, handle);
      lend_to_subscribers(self, handle);
      rotate_if_due(self); // a file that just filled up closes now, not at the next block
      ++n;
      if (init.opts.count >= 0 && packets >= static_cast<std::uint64_t>(init.opts.count))
        stopping = true;
    }
    return n;
  }

  void lend_to_subscribers(caf::blocking_actor* self, const io::block_handle& block) {
    for (auto& sub : subscribers) {
      if (auto lease = sub.leases->lend(block)) {
        self->send(sub.who, block_atom::value, init.thread, std::move(lease));
        ++sub.lent;
      } else {
        ++sub.skipped;
      }
    }
  }

  void subscribe(caf::blocking_actor* self, caf::actor who, std::uint32_t max_leases) {
    unsubscribe(who.address());
    if (max_leases == 0 || !who)
      return;
    self->monitor(who);
    subscribers.push_back({std::move(who), std::make_shared<io::lease_pool>(max_leases)});
  }

  void unsubscribe(const caf::actor_addr& who) {
    std::erase_if(subscribers, [&](const block_subscriber& s) { return s.who.address() == who; });
  }

  void update_kernel_stats() {
    auto st = init.ring->read_stats();
    kernel_packets += st.packets;
    kernel_drops += st.drops;
    freezes += st.freezes;
  }

  // Google stenotype's stats line, field for field (stenotype.cc): log
  // scrapers written for it read it by whitespace position.
  void log_stats() {
    update_kernel_stats();
    const auto now = steady_micros();
    const double secs = static_cast<double>(now - started_us) / 1e6;
    const std::uint64_t mb = sequence * init.ring->block_size() >> 20;
    const double drop_pct = kernel_packets ? 100.0 * static_cast<double>(kernel_drops)
                                               / static_cast<double>(kernel_packets)
                                           : 0.0;
    LOG_INFO_STAMPED("Thread %d stats: MB=%llu secs=%g MBps=%g packets=%llu blocks=%llu polls=%llu drops=%llu "
                     "drop%%=%g",
                     init.thread, static_cast<unsigned long long>(mb), secs,
                     secs > 0 ? static_cast<double>(mb) / secs : 0.0, static_cast<unsigned long long>(packets),
                     static_cast<unsigned long long>(sequence),
                     static_cast<unsigned long long>(init.ring->polls()),
                     static_cast<unsigned long long>(kernel_drops), drop_pct);
    last_stats_us = now;
    last_stats_blocks = sequence;
  }

  // As stenotype: at the first block, then every --stats_blocks blocks or
  // --stats_sec seconds (here also on an idle link).
  void maybe_log_stats() {
    const auto& o = init.opts;
    const bool first = (o.stats_blocks > 0 || o.stats_sec > 0) && sequence > 0 && last_stats_blocks == 0;
    const bool by_blocks = o.stats_blocks > 0 && sequence - last_stats_blocks >= o.stats_blocks;
    const bool by_time = o.stats_sec > 0
                         && steady_micros() - last_stats_us >= std::uint64_t{o.stats_sec} * 1000000u;
    if (first || by_blocks || by_time)
      log_stats();
  }

  caf::settings status() {
    update_kernel_stats();
    caf::settings s;
    caf::put(s, status_key::thread, init.thread);
    caf::put(s, status_key::packets, static_cast<int64_t>(packets));
    caf::put(s, status_key::blocks, static_cast<int64_t>(sequence));
    caf::put(s, status_key::bytes, static_cast<int64_t>(sequence * init.ring->block_size()));
    caf::put(s, status_key::kernel_packets, static_cast<int64_t>(kernel_packets));
    caf::put(s, status_key::kernel_drops, static_cast<int64_t>(kernel_drops));
    caf::put(s, status_key::freezes, static_cast<int64_t>(freezes));
    caf::put(s, status_key::polls, static_cast<int64_t>(init.ring->polls()));
    if (plan.has_open_file()) {
      const auto now = wall_micros(), id = plan.open_file_id();
      caf::put(s, status_key::current_file, std::to_string(id));
      caf::put(s, status_key::current_file_age_s, static_cast<int64_t>(now > id ? (now - id) / 1000000 : 0));
      caf::put(s, status_key::current_file_bytes, static_cast<int64_t>(plan.open_file_bytes()));
    }
    caf::put(s, status_key::blocks_on_loan, static_cast<int64_t>(init.ring->on_loan()));
    std::int64_t lent = 0, skipped = 0, leased = 0;
    for (const auto& sub : subscribers) {
      lent += static_cast<int64_t>(sub.lent);
      skipped += static_cast<int64_t>(sub.skipped);
      leased += sub.leases->outstanding();
    }
    caf::put(s, status_key::index_blocks_shed, static_cast<int64_t>(blocks_shed));
    caf::put(s, status_key::index_files_shed, static_cast<int64_t>(files_shed));
    caf::put(s, status_key::index_leases_out, static_cast<int64_t>(budget->leases->outstanding()));
    caf::put(s, status_key::subscribers, static_cast<int64_t>(subscribers.size()));
    caf::put(s, status_key::subscriber_blocks_lent, lent);
    caf::put(s, status_key::subscriber_blocks_skipped, skipped);
    caf::put(s, status_key::subscriber_leases_out, leased);
    return s;
  }

  // Serves every control message waiting, without blocking. A receive with a
  // zero timeout still costs a timed futex wait, so look first: most rounds
  // find the mailbox empty.
  void serve_mailbox(caf::blocking_actor* self) {
    for (bool more = !self->mailbox().empty(); more;) {
      self->receive(
        [&](stop_atom) { stopping = true; },
        [&](status_atom) { return status(); },
        [&](subscribe_atom, caf::actor& who, std::uint32_t n) { subscribe(self, who, n); },
        [&](caf::down_msg& down) { unsubscribe(down.source); },
        [&](indexer_atom, indexer_actor& fresh) { init.indexer = std::move(fresh); },
        caf::after(std::chrono::seconds(0)) >> [&] { more = false; });
    }
  }

  // Stop: no new packets into the ring, then hand over every block the kernel
  // still holds packets in. The ring hands out the partly filled block too
  // once nothing can land in it any more (io::ring::stop_intake); where it
  // cannot, the kernel retires that block only on its timer, and this waits
  // up to --blockage_sec.
  void drain(caf::blocking_actor* self) {
    init.ring->stop_intake();
    const auto deadline = steady_micros() + (std::uint64_t{init.opts.blockage_sec} + 2) * 1000000u;
    for (;;) {
      take_ready(self);
      if (init.ring->pending_packets() == 0)
        break;
      serve_mailbox(self); // still answer the watchdog's status requests while waiting
      if (steady_micros() > deadline) {
        LOG_ERROR("thread %d: the kernel did not retire the last block; %u packets lost",
                  init.thread, init.ring->pending_packets());
        break;
      }
      init.ring->wait(50ms);
    }
    if (auto closed = plan.close())
      send_downstream(self, close_atom::value, *closed);
    send_downstream(self, eos_atom::value);
    log_stats(); // the last word on drops (bench/live_bench.sh reads it)
  }
};

void run(caf::blocking_actor* self, reader_state& st) {
  while (!st.stopping) {
    st.serve_mailbox(self);
    if (st.stopping)
      break;
    st.take_ready(self);
    st.rotate_if_due(self);
    st.maybe_log_stats();
    if (!st.stopping) // --count reached
      st.init.ring->wait(poll_timeout);
  }
  st.drain(self);
}

} // namespace

void reader_main(caf::blocking_actor* self, reader_init init) {
  const int thread = init.thread;
  name_current_thread(("steno-read" + std::to_string(thread)).c_str());
  pin_current_thread(thread);
  reader_state st{std::move(init)};
  install_seccomp(seccomp_role::reader, st.init.opts.seccomp);
  try {
    run(self, st);
  } catch (const std::exception& e) {
    // The ring failed (typically: the interface disappeared). The kernel
    // still retires the block it was filling on its timer: drain it like a
    // stop, so that every packet it handed over reaches the disk, then fail.
    const std::string who = status_key::component(status_key::reader, thread);
    LOG_WARN("%s: the ring failed; writing the blocks it still holds", who.c_str());
    try {
      st.drain(self);
    } catch (const std::exception& again) {
      LOG_ERROR("%s: while draining: %s", who.c_str(), again.what());
      if (auto closed = st.plan.close())
        st.send_downstream(self, close_atom::value, *closed);
    }
    end_with_failure(self, who, e);
  }
}

} // namespace stenotype
