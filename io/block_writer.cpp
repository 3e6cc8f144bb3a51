// io/block_writer.cpp -- see block_writer.hpp for why it is shaped this way.
#include "io/block_writer.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <libaio.h>
#include <sys/statvfs.h>
#include <stdexcept>
#include <time.h>
#include <utility>
#include <unistd.h>

#include "io/durable_extent.hpp"
#include "io/layout.hpp"
#include "stenotype/error.hpp"
#include "stenotype/log.hpp"

namespace stenotype::io {
namespace {

std::uint64_t monotonic_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000 + static_cast<std::uint64_t>(ts.tv_nsec) / 1000;
}

[[noreturn]] void fail(const std::string& what, int err) {
  throw failure(errc_from_errno(err), what + ": " + std::strerror(err));
}

io_context_t as_ctx(void* p) { return static_cast<io_context_t>(p); }

} // namespace

struct block_writer::open_file {
  std::uint64_t id = 0;
  int fd = -1;
  std::string hidden, final;
  std::uint64_t end = 0;       // highest byte written
  std::uint64_t allocated = 0; // bytes reserved with fallocate
  std::uint64_t blocks = 0;
  std::uint32_t in_flight = 0;
  extent_publisher extent;          // its sidecar, when cfg_.publish_extent
  std::uint64_t extent_at_us = 0;   // when it was last written
  std::uint64_t extent_completed = 0; // stats_.completed then
};

struct block_writer::slot {
  iocb cb{};
  block_handle block;
  open_file* file = nullptr;
  std::uint64_t offset = 0;
  std::uint64_t submitted_us = 0;
  std::uint64_t frees_at_submit = 0; // block_writer::frees_ when submitted
  bool short_retried = false;
};

block_writer::block_writer(writer_config cfg) : cfg_(std::move(cfg)) {
  make_directories(cfg_.directory);
  dir_fd_ = ::open(cfg_.directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0)
    fail("cannot open directory " + cfg_.directory, errno);
  io_context_t ctx = nullptr;
  if (int rc = io_setup(static_cast<int>(cfg_.aiops), &ctx); rc < 0) {
    ::close(dir_fd_);
    fail("io_setup(" + std::to_string(cfg_.aiops) + ") failed (see /proc/sys/fs/aio-max-nr)", -rc);
  }
  ctx_ = ctx;
  slots_.resize(cfg_.aiops);
  for (std::uint32_t i = cfg_.aiops; i-- > 0;)
    free_slots_.push_back(i);
}

block_writer::~block_writer() {
  // Leave an unfinished file hidden: it is incomplete, and start-up recovery
  // (docs/OPERATIONS.md) deals with it. Outstanding writes must not touch
  // freed slots, so wait for them.
  try {
    wait_for(0);
  } catch (const std::exception& e) {
    LOG_ERROR("%s", e.what());
  }
  if (file_)
    ::close(file_->fd);
  io_destroy(as_ctx(ctx_));
  ::close(dir_fd_);
}

block_writer::open_file& block_writer::file_for(std::uint64_t id) {
  if (file_ && file_->id == id)
    return *file_;
  if (file_)
    throw std::logic_error("block for file " + std::to_string(id) + " while file "
                           + std::to_string(file_->id) + " is open");
  file_ = create(id, true);
  return *file_;
}

std::unique_ptr<block_writer::open_file> block_writer::create(std::uint64_t id, bool preallocate) {
  auto f = std::make_unique<open_file>();
  f->id = id;
  f->hidden = cfg_.directory + "/" + hidden_name(id);
  f->final = cfg_.directory + "/" + final_name(id);
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
  auto create = [&] {
    if (direct_) {
      // O_DSYNC: a completed write is on stable storage, as with stenotype, so
      // a crash loses at most the writes in flight.
      const int fd = ::open(f->hidden.c_str(), flags | O_DIRECT | O_DSYNC, 0600);
      if (fd >= 0 || errno != EINVAL)
        return fd;
      LOG_WARN("%s does not support O_DIRECT; falling back to buffered writes "
               "(synced before each rename)", cfg_.directory.c_str());
      direct_ = false;
    }
    return ::open(f->hidden.c_str(), flags, 0600);
  };
  // A full directory or inode table is a full disk too.
  for (std::uint64_t since = frees_; (f->fd = create()) < 0; since = frees_)
    if (!retry_after_freeing(errno, f->hidden, since))
      fail("cannot create " + f->hidden, errno);
  if (preallocate && cfg_.preallocate_bytes > 0 && ::fallocate(f->fd, 0, 0, static_cast<off_t>(cfg_.preallocate_bytes)) == 0)
    f->allocated = cfg_.preallocate_bytes;
  // Fresh queries are a convenience: a sidecar that cannot be made costs
  // them this file, never a packet.
  if (preallocate && cfg_.publish_extent)
    if (const int err = f->extent.open(dir_fd_, id, static_cast<std::uint32_t>(cfg_.block_size)))
      LOG_WARN("cannot create %s/%s (%s): the file's packets become queryable when it is complete",
               cfg_.directory.c_str(), extent_name(id).c_str(), std::strerror(err));
  f->extent_completed = stats_.completed;
  return f;
}

void block_writer::write(std::uint64_t file_id, std::uint64_t offset, block_handle block) {
  open_file& f = file_for(file_id);
  const std::uint64_t end = offset + block.size();
  if (end > f.allocated && cfg_.grow_bytes > 0) {
    // Keep the file's size ahead of the writes (see header). Filesystems
    // without fallocate just take the slower extending writes.
    // Preallocation is an optimisation, never a reason to lose a block:
    // when the step does not fit (a nearly full disk), reserve just this
    // block, and when not even that fits, write anyway -- the write itself
    // reports a disk that is really full.
    for (const std::uint64_t target : {end + cfg_.grow_bytes, end})
      if (::fallocate(f.fd, 0, static_cast<off_t>(f.allocated), static_cast<off_t>(target - f.allocated)) == 0) {
        f.allocated = target;
        break;
      }
    keep_headroom(f);
  }
  wait_for(cfg_.aiops - 1);
  const std::uint32_t index = free_slots_.back();
  slot& s = slots_[index];
  s.file = &f;
  s.block = std::move(block);
  s.offset = offset;
  s.short_retried = false;
  if (const int err = submit(s)) {
    s.block.reset();
    s.file = nullptr;
    fail("cannot submit write to " + f.hidden, err);
  }
  free_slots_.pop_back();
  ++f.in_flight;
  ++stats_.in_flight;
  f.end = std::max(f.end, end);
}

int block_writer::submit(slot& s) {
  for (;;) {
    s.frees_at_submit = frees_;
    s.submitted_us = monotonic_us();
    io_prep_pwrite(&s.cb, s.file->fd, const_cast<std::uint8_t*>(s.block.data()), s.block.size(),
                   static_cast<long long>(s.offset));
    s.cb.data = &s;
    iocb* cbs[1] = {&s.cb};
    int rc;
    do
      rc = io_submit(as_ctx(ctx_), 1, cbs);
    while (rc == -EAGAIN || rc == -EINTR);
    if (rc == 1)
      return 0;
    const int err = rc < 0 ? -rc : EIO;
    if (!retry_after_freeing(err, s.file->hidden, s.frees_at_submit))
      return err;
  }
}

bool block_writer::retry_after_freeing(int err, const std::string& path, std::uint64_t since) {
  if (errc_from_errno(err) != errc::no_space || !cfg_.reclaim_space)
    return false;
  // Writes submitted before the last deletion may fail for the space that
  // deletion has since given back: they retry without asking for more.
  if (since == frees_) {
    if (refused_) // nothing of ours is left to delete: the other writes in flight need not ask again
      return false;
    ++stats_.space_requests;
    if (!cfg_.reclaim_space(path)) {
      refused_ = true;
      return false;
    }
    ++frees_;
  }
  ++stats_.no_space_retries;
  return true;
}

void block_writer::keep_headroom(const open_file& f) {
  if (!cfg_.want_space)
    return;
  struct statvfs v {};
  if (::fstatvfs(f.fd, &v) != 0 || std::uint64_t{v.f_bavail} * v.f_frsize >= cfg_.grow_bytes)
    return;
  ++stats_.headroom_requests;
  cfg_.want_space(f.hidden, cfg_.grow_bytes);
}

void block_writer::release(slot& s) {
  --s.file->in_flight;
  --stats_.in_flight;
  s.block.reset(); // the block goes back to the ring once the indexer is done too
  s.file = nullptr;
  free_slots_.push_back(static_cast<std::uint32_t>(&s - slots_.data()));
}

void block_writer::complete_all(const io_event* events, int n) {
  // Account for every event before reporting a failure: a lost event would
  // leave its slot busy forever and the final drain would hang.
  std::optional<failure> error;
  for (int i = 0; i < n; ++i)
    if (auto e = complete(events[i]); e && !error)
      error = std::move(e);
  if (error)
    throw *error;
}

std::optional<failure> block_writer::complete(const io_event& ev) {
  slot& s = *static_cast<slot*>(ev.data);
  open_file& f = *s.file;
  const auto expected = static_cast<long>(s.block.size());
  const long res = static_cast<long>(ev.res);
  if (res != expected) {
    // The same bytes at the same offset again: after a full disk once space
    // was freed; after a short write (the disk filled mid-block) once as it
    // is, and the retry then says what stopped it.
    const bool again = res < 0 ? retry_after_freeing(static_cast<int>(-res), f.hidden, s.frees_at_submit)
                               : !std::exchange(s.short_retried, true);
    if (again) {
      const int err = submit(s);
      if (err == 0)
        return {};
      release(s);
      return failure(errc_from_errno(err), "cannot submit write to " + f.hidden + ": " + std::strerror(err));
    }
  }
  const std::uint64_t latency = monotonic_us() - s.submitted_us;
  stats_.max_latency_us = std::max(stats_.max_latency_us, latency);
  stats_.latency_sum_us += latency;
  ++stats_.completed;
  release(s);
  if (res != expected)
    return failure(res < 0 ? errc_from_errno(static_cast<int>(-res)) : errc::io_error,
                   "write to " + f.hidden + " failed: "
                     + (res < 0 ? std::strerror(static_cast<int>(-res)) : "short write"));
  ++f.blocks;
  ++stats_.blocks;
  stats_.bytes += static_cast<std::uint64_t>(expected);
  return {};
}

void block_writer::wait_for(std::uint32_t max_in_flight) {
  io_event events[64];
  while (stats_.in_flight > max_in_flight) {
    int n = io_getevents(as_ctx(ctx_), 1, 64, events, nullptr);
    if (n == -EINTR)
      continue;
    if (n < 0)
      fail("io_getevents failed", -n);
    complete_all(events, n);
  }
}

void block_writer::reap(std::chrono::milliseconds timeout) {
  if (stats_.in_flight == 0)
    return;
  io_event events[64];
  timespec ts{static_cast<time_t>(timeout.count() / 1000),
              static_cast<long>(timeout.count() % 1000) * 1000000};
  int n = io_getevents(as_ctx(ctx_), 1, 64, events, &ts);
  if (n < 0 && n != -EINTR)
    fail("io_getevents failed", -n);
  complete_all(events, n);
}

std::uint64_t block_writer::durable_bytes(const open_file& f) const {
  // Blocks are submitted in offset order, so everything below the lowest
  // write still in flight has completed.
  std::uint64_t durable = f.end;
  if (f.in_flight > 0)
    for (const slot& s : slots_)
      if (s.file == &f)
        durable = std::min(durable, s.offset);
  return durable;
}

bool block_writer::publish_extent() {
  if (!file_ || !file_->extent.is_open() || file_->extent_completed == stats_.completed)
    return false;
  open_file& f = *file_;
  const std::uint64_t now = monotonic_us();
  if (now - f.extent_at_us < static_cast<std::uint64_t>(cfg_.extent_interval.count()) * 1000)
    return true;
  f.extent_at_us = now;
  f.extent_completed = stats_.completed;
  if (const int err = f.extent.publish(durable_bytes(f)))
    LOG_WARN("cannot update %s/%s (%s): the file's further packets become queryable when it is complete",
             cfg_.directory.c_str(), extent_name(f.id).c_str(), std::strerror(err));
  return false;
}

std::optional<finished_file> block_writer::finish(std::uint64_t file_id) {
  if (!file_ && cfg_.empty_files && file_id > last_finished_)
    file_ = create(file_id, false); // no block reached it: finished empty, below
  if (!file_ || file_->id != file_id)
    return std::nullopt;
  open_file& f = *file_;
  while (f.in_flight > 0)
    wait_for(stats_.in_flight - 1);
  // Always trim: a fallocate that failed with ENOSPC may still have grown
  // the file, beyond what `allocated` knows.
  if (::ftruncate(f.fd, static_cast<off_t>(f.end)) != 0)
    fail("cannot trim " + f.hidden, errno);
  ::close(f.fd); // publish() syncs the file and reports what failed
  f.fd = -1;
  // A rename into a directory that must grow can find the disk full: retry
  // it while the file still has its hidden name (nothing changed yet).
  for (std::uint64_t since = frees_;; since = frees_) {
    try {
      publish(dir_fd_, cfg_.directory, hidden_name(f.id), final_name(f.id));
      break;
    } catch (const failure& e) {
      if (e.code() != errc::no_space || !exists(f.hidden) || !retry_after_freeing(ENOSPC, f.hidden, since))
        throw;
    }
  }
  f.extent.remove(); // after the rename: a reader finds the sidecar or the final name
  finished_file done{f.id, f.final, f.end, f.blocks};
  refused_ = false; // one more complete file of ours: something to delete again
  last_finished_ = f.id;
  file_.reset();
  ++stats_.files;
  return done;
}

} // namespace stenotype::io
