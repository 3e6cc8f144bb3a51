#include "io/direct_reader.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <libaio.h>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>

namespace stenotype::io {
namespace {

// O_DIRECT wants the buffer, offset and length aligned to the device's
// logical block; 4 KiB covers every disk in use.
constexpr std::uint64_t alignment = 4096;

io_context_t as_ctx(void* p) { return static_cast<io_context_t>(p); }

// AIO contexts are kept for the next reader: io_destroy waits for an RCU
// grace period (~30 ms measured here), longer than reading a 24 MiB file.
// Taken and given back once per file, never on the read path.
constexpr unsigned context_events = 16; // the largest depth served
std::mutex contexts_mutex;
std::vector<io_context_t>& spare_contexts() {
  static auto* spare = new std::vector<io_context_t>; // never destroyed: readers may outlive statics
  return *spare;
}

io_context_t take_context() {
  {
    std::lock_guard lock(contexts_mutex);
    if (!spare_contexts().empty()) {
      io_context_t c = spare_contexts().back();
      spare_contexts().pop_back();
      return c;
    }
  }
  io_context_t c = nullptr;
  return io_setup(static_cast<int>(context_events), &c) < 0 ? nullptr : c;
}

// Block buffers too: a fresh one per file is an mmap, page faults and
// zeroing of each of its pages.
struct spare_buffer {
  std::uint32_t size;
  std::uint8_t* bytes;
};
std::vector<spare_buffer>& spare_buffers() {
  static auto* spare = new std::vector<spare_buffer>;
  return *spare;
}

std::uint8_t* take_buffer(std::uint32_t size) {
  {
    std::lock_guard lock(contexts_mutex);
    auto& spare = spare_buffers();
    for (std::size_t i = 0; i < spare.size(); ++i)
      if (spare[i].size == size) {
        std::uint8_t* b = spare[i].bytes;
        spare[i] = spare.back();
        spare.pop_back();
        return b;
      }
  }
  return static_cast<std::uint8_t*>(std::aligned_alloc(alignment, size));
}

void give_back(std::uint32_t size, std::uint8_t* b) {
  std::lock_guard lock(contexts_mutex);
  if (spare_buffers().size() < 4 * (context_events + 1))
    spare_buffers().push_back({size, b});
  else
    std::free(b);
}

void give_back(io_context_t c) { // with nothing in flight
  std::lock_guard lock(contexts_mutex);
  if (spare_contexts().size() < 64)
    spare_contexts().push_back(c);
  else
    io_destroy(c);
}

} // namespace

struct direct_reader::slot {
  std::uint8_t* buffer = nullptr; // from take_buffer, given back by the reader
  iocb cb{};
  std::uint64_t offset = 0;
  bool done = false;
  long result = 0; // bytes read, or -errno
};

std::unique_ptr<direct_reader> direct_reader::open(int fd, const std::string& path, std::uint64_t begin,
                                                   std::uint64_t end, std::uint32_t block_size, unsigned depth) {
  if (block_size == 0 || block_size % alignment || begin % block_size || end % block_size || begin >= end
      || depth == 0 || depth > context_events)
    return nullptr;
  const int dfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_DIRECT);
  if (dfd < 0)
    return nullptr; // EINVAL: the file system has no O_DIRECT (tmpfs)
  std::unique_ptr<direct_reader> r(new direct_reader);
  r->fd_ = dfd;
  struct stat a, b;
  if (::fstat(fd, &a) != 0 || ::fstat(dfd, &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
    return nullptr; // not the file the caller reads: replaced meanwhile
  io_context_t ctx = take_context();
  if (!ctx)
    return nullptr; // /proc/sys/fs/aio-max-nr reached, or AIO not allowed
  r->ctx_ = ctx;
  r->begin_ = r->next_ = begin;
  r->end_ = end;
  r->block_size_ = block_size;
  r->depth_ = depth;
  // One buffer more than reads in flight: the one the caller is parsing.
  r->slots_.resize(depth + 1);
  for (std::size_t s = 0; s < r->slots_.size(); ++s) {
    r->slots_[s].buffer = take_buffer(block_size);
    if (!r->slots_[s].buffer)
      return nullptr;
    r->free_.push_back(s);
  }
  return r;
}

direct_reader::~direct_reader() {
  if (ctx_) {
    drain(); // the kernel must be done writing into the buffers before they are freed
    if (in_flight_ == 0)
      give_back(as_ctx(ctx_));
    else
      io_destroy(as_ctx(ctx_)); // (io_getevents failed) waits for them itself
  }
  if (in_flight_ == 0) // (else the kernel may still write into them: left to the process)
    for (slot& sl : slots_)
      if (sl.buffer)
        give_back(block_size_, sl.buffer);
  if (fd_ >= 0)
    ::close(fd_);
}

void direct_reader::fail(std::string why) {
  if (!failed_) {
    failed_ = true;
    why_ = std::move(why);
  }
}

bool direct_reader::submit(std::size_t s, std::uint64_t offset) {
  slot& sl = slots_[s];
  sl.offset = offset;
  sl.done = false;
  sl.result = 0;
  io_prep_pread(&sl.cb, fd_, sl.buffer, block_size_, static_cast<long long>(offset));
  sl.cb.data = reinterpret_cast<void*>(s);
  iocb* cbs[1] = {&sl.cb};
  const int rc = io_submit(as_ctx(ctx_), 1, cbs);
  if (rc != 1) {
    fail(std::string("io_submit: ") + std::strerror(rc < 0 ? -rc : EAGAIN));
    free_.push_back(s);
    return false;
  }
  ++in_flight_;
  queue_.push_back(s);
  return true;
}

bool direct_reader::reap(bool wait_one) {
  io_event events[16];
  for (;;) {
    const int n = io_getevents(as_ctx(ctx_), wait_one ? 1 : 0, 16, events, nullptr);
    if (n == -EINTR)
      continue;
    if (n < 0) {
      fail(std::string("io_getevents: ") + std::strerror(-n));
      return false;
    }
    for (int i = 0; i < n; ++i) {
      slot& sl = slots_[reinterpret_cast<std::size_t>(events[i].data)];
      sl.done = true;
      sl.result = static_cast<long>(events[i].res);
      --in_flight_;
    }
    return true;
  }
}

void direct_reader::drain() {
  while (in_flight_ > 0)
    if (!reap(true))
      break;
}

void direct_reader::start() {
  if (failed_ || !queue_.empty())
    return;
  while (!free_.empty() && in_flight_ < depth_ && next_ < end_) {
    const std::size_t s = free_.back();
    free_.pop_back();
    if (!submit(s, next_))
      return;
    next_ += block_size_;
  }
}

const std::uint8_t* direct_reader::read(std::uint64_t offset) {
  if (failed_ || offset < begin_ || offset >= end_ || offset % block_size_)
    return nullptr;
  // Blocks before this one are not wanted any more (the caller is done with
  // them, or skipped them): their buffers are free once their reads end.
  while (!queue_.empty() && slots_[queue_.front()].offset != offset) {
    if (slots_[queue_.front()].offset > offset) { // behind what is in flight: start again there
      drain();
      free_.insert(free_.end(), queue_.begin(), queue_.end());
      queue_.clear();
      break;
    }
    while (!slots_[queue_.front()].done)
      if (!reap(true))
        return nullptr;
    free_.push_back(queue_.front());
    queue_.pop_front();
  }
  if (queue_.empty())
    next_ = offset;
  while (!free_.empty() && in_flight_ < depth_ && next_ < end_) {
    const std::size_t s = free_.back();
    free_.pop_back();
    if (!submit(s, next_))
      return nullptr;
    next_ += block_size_;
  }
  slot& front = slots_[queue_.front()];
  while (!front.done)
    if (!reap(true))
      return nullptr;
  if (front.result != static_cast<long>(block_size_)) {
    fail(front.result < 0 ? std::string("read: ") + std::strerror(static_cast<int>(-front.result))
                          : "short read at byte " + std::to_string(front.offset));
    return nullptr;
  }
  // The caller holds this buffer until its next call: it stays at the front.
  return front.buffer;
}

} // namespace stenotype::io
