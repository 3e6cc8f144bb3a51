// query/lookahead.hpp -- items prepared in order on a few threads, ahead of
// the one consuming them.
//
// Opening a packet file cold is a chain of dependent reads (the index's
// footer, its filter and index blocks, then the candidates): a few disk
// round trips that the disk could serve beside other files' (it serves many
// reads at once). The merge consumes files in order; while it reads one,
// the next `depth` are prepared on `threads` threads, each blocked on its
// own reads. Items are prepared at most `depth` past the last one asked for,
// so memory stays bounded; the consumer still takes them in order, so what
// it sees (and reports) does not depend on the threads' timing.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace stenotype::query {

class lookahead {
public:
  /// Prepares items 0..n-1 with `prepare(i)` (which must not throw), at most
  /// `depth` past the one last waited for. `threads` 0: each is prepared
  /// by wait() itself.
  lookahead(std::size_t n, std::size_t depth, std::size_t threads, std::function<void(std::size_t)> prepare)
    : n_(n), depth_(depth), prepare_(std::move(prepare)), done_(n, false) {
    allowed_ = std::min(n_, depth_);
    for (std::size_t t = 0; t < threads && t < n; ++t)
      threads_.emplace_back([this] { work(); });
  }
  ~lookahead() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_)
      t.join();
  }
  lookahead(const lookahead&) = delete;
  lookahead& operator=(const lookahead&) = delete;

  /// Returns once item `i` is prepared (prepares it here if no thread has
  /// begun it); lets the threads go on up to i + depth.
  void wait(std::size_t i) {
    std::unique_lock lock(mutex_);
    allowed_ = std::max(allowed_, std::min(n_, i + 1 + depth_));
    wake_.notify_all();
    while (!done_[i]) {
      if (next_ <= i) { // nobody took it (or one before it) yet: done here
        const std::size_t j = next_++;
        lock.unlock();
        prepare_(j);
        lock.lock();
        done_[j] = true;
        ready_.notify_all();
      } else {
        ready_.wait(lock);
      }
    }
  }

private:
  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || next_ < allowed_; });
      if (stop_)
        return;
      const std::size_t i = next_++;
      lock.unlock();
      prepare_(i);
      lock.lock();
      done_[i] = true;
      ready_.notify_all();
    }
  }

  const std::size_t n_, depth_;
  std::function<void(std::size_t)> prepare_;
  std::mutex mutex_;
  std::condition_variable wake_, ready_;
  std::vector<bool> done_;
  std::size_t next_ = 0, allowed_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

} // namespace stenotype::query
