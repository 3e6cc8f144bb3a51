// actors/chunk_pipe.cpp -- see chunk_pipe.hpp.
#include "actors/chunk_pipe.hpp"

#include <algorithm>
#include <cstring>
#include <system_error>

namespace stenotype {

chunk_pipe::chunk_pipe(std::size_t slots, std::size_t chunk_bytes, std::size_t head, std::size_t tail, send_fn send)
  : slot_count_(std::max<std::size_t>(slots, 1)), chunk_bytes_(chunk_bytes), head_(head), tail_(tail),
    send_(std::move(send)) {}

chunk_pipe::~chunk_pipe() {
  if (!sender_.joinable())
    return;
  {
    std::lock_guard lock(mutex_);
    failed_ = true; // (not finished: the answer is cut; what is queued is dropped)
  }
  changed_.notify_all();
  sender_.join(); // (a send under way returns: the client reads, times out or its socket is shut down)
}

bool chunk_pipe::start() {
  started_ = true;
  slots_.resize(slot_count_);
  for (auto& s : slots_)
    s.memory = std::make_unique<char[]>(head_ + chunk_bytes_ + tail_);
  try {
    sender_ = std::thread([this] { run(); });
  } catch (const std::system_error&) {
    inline_ = true; // (no thread to be had: as without a pipe)
  }
  return true;
}

bool chunk_pipe::put(const char* data, std::size_t n) {
  if (!started_)
    start();
  while (n > 0) {
    const std::size_t part = std::min(n, chunk_bytes_);
    if (!put_one(data, part))
      return false;
    data += part;
    n -= part;
  }
  return true;
}

bool chunk_pipe::put_one(const char* data, std::size_t n) {
  if (inline_) {
    if (failed_)
      return false;
    std::memcpy(slots_[0].memory.get() + head_, data, n);
    return !(failed_ = !send_(slots_[0].memory.get() + head_, n));
  }
  std::unique_lock lock(mutex_);
  if (queued_ == slot_count_ && !failed_) {
    producer_waiting_ = true;
    changed_.wait(lock, [&] { return queued_ < slot_count_ || failed_; });
    producer_waiting_ = false;
  }
  if (failed_)
    return false;
  // The slot after the queued ones: the sender touches only queued slots,
  // so it is ours to fill without the lock.
  slot& s = slots_[(first_ + queued_) % slot_count_];
  lock.unlock();
  std::memcpy(s.memory.get() + head_, data, n);
  s.bytes = n;
  lock.lock();
  ++queued_;
  const bool wake = sender_waiting_;
  lock.unlock();
  if (wake)
    changed_.notify_all();
  return true;
}

bool chunk_pipe::finish() {
  if (!started_ || inline_)
    return !failed_;
  {
    std::lock_guard lock(mutex_);
    ending_ = true;
  }
  changed_.notify_all();
  sender_.join(); // (it ends when the queue is empty, or at a failure)
  return !failed_;
}

void chunk_pipe::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (queued_ == 0 && !ending_ && !failed_) {
      sender_waiting_ = true;
      changed_.wait(lock, [&] { return queued_ > 0 || ending_ || failed_; });
      sender_waiting_ = false;
    }
    if (failed_ || queued_ == 0)
      return;
    slot& s = slots_[first_];
    lock.unlock();
    const bool ok = send_(s.memory.get() + head_, s.bytes);
    lock.lock();
    if (!ok) {
      failed_ = true;
      lock.unlock();
      changed_.notify_all();
      return;
    }
    first_ = (first_ + 1) % slot_count_;
    --queued_;
    // A waiting query is woken when half the slots are free, not at every
    // one: it then fills several before it waits again (fewer switches
    // between the two threads, each a trip through the scheduler).
    if (producer_waiting_ && queued_ <= slot_count_ / 2) {
      lock.unlock();
      changed_.notify_all();
      lock.lock();
    }
  }
}

} // namespace stenotype
