// actors/chunk_pipe.hpp -- a query's answer, sent by a thread of its own.
//
// A query's thread reads, filters and frames packets; sending them over
// TLS (encryption, the socket's write) costs about as much again. With
// both on one thread an export runs at half the speed either could. A
// chunk_pipe takes the answer's chunks from the query's thread (a copy
// into one of a few fixed slots) and hands them, in order, to `send` on
// a sender thread, so that the next chunks are produced while one is
// encrypted and written.
//
// Bounded: `slots` chunks of at most `chunk_bytes`, allocated when the
// pipe starts; a full pipe blocks put(), so a slow client still holds up
// the query (back-pressure). When `send` fails (the client went away, the
// connection was shut down) the sender stops, drops what is queued, and
// put() and finish() return false at once -- the query ends as before.
//
// The sender thread starts at the first put(). If it cannot be started
// (no memory, no thread), chunks are sent on the caller's thread, as
// without a pipe. `send` is called with room before and after the chunk
// (`head` and `tail` bytes, writable) for its framing.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace stenotype {

class chunk_pipe {
public:
  /// Sends one chunk: `data` has `head` writable bytes before it and `tail`
  /// after. False: the connection failed, nothing more is sent.
  using send_fn = std::function<bool(char* data, std::size_t n)>;

  chunk_pipe(std::size_t slots, std::size_t chunk_bytes, std::size_t head, std::size_t tail, send_fn send);
  /// Stops the sender (dropping what it has not sent) and joins it.
  ~chunk_pipe();
  chunk_pipe(const chunk_pipe&) = delete;
  chunk_pipe& operator=(const chunk_pipe&) = delete;

  /// Queues a copy of `n` bytes (in chunks of at most chunk_bytes), waiting
  /// for a free slot when all are queued. False: the sender failed.
  bool put(const char* data, std::size_t n);

  /// Waits until every queued chunk is sent and ends the sender. False:
  /// the sender failed. put() must not be called after.
  bool finish();

  /// Whether the sender thread runs (or ran): put() was called.
  bool started() const { return started_; }

private:
  struct slot {
    std::unique_ptr<char[]> memory;
    std::size_t bytes = 0;
  };
  bool start();
  void run(); // the sender thread
  bool put_one(const char* data, std::size_t n);

  const std::size_t slot_count_, chunk_bytes_, head_, tail_;
  send_fn send_;
  std::vector<slot> slots_;
  bool started_ = false;
  bool inline_ = false; // no sender thread: send on the caller's thread
  std::thread sender_;
  std::mutex mutex_;
  std::condition_variable changed_; // a slot queued or freed, failure, finish
  std::size_t first_ = 0, queued_ = 0; // the ring of queued slots (guarded by mutex_)
  bool failed_ = false, ending_ = false;
  bool producer_waiting_ = false, sender_waiting_ = false; // (guarded by mutex_: who needs a notify)
};

} // namespace stenotype
