// The query service's sender thread (actors/chunk_pipe.hpp): every byte in
// order, at most `slots` chunks queued (back-pressure), a failed send ends
// the producer's writes, and the framing room is there.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "actors/chunk_pipe.hpp"

using stenotype::chunk_pipe;

namespace {

std::string pattern(std::size_t n, std::size_t seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((i * 31 + seed * 7) & 0xff);
  return s;
}

} // namespace

TEST_CASE("chunk_pipe: every byte arrives in order, in chunks of at most chunk_bytes, with framing room") {
  std::string got;
  std::size_t calls = 0, largest = 0;
  std::thread::id sender;
  bool room_ok = true;
  chunk_pipe pipe{3, 1000, 16, 2, [&](char* data, std::size_t n) {
                    // (the room must be writable: the framing goes there)
                    std::memset(data - 16, 'H', 16);
                    std::memset(data + n, 'T', 2);
                    room_ok = room_ok && data[-1] == 'H' && data[n + 1] == 'T';
                    got.append(data, n);
                    ++calls;
                    largest = std::max(largest, n);
                    sender = std::this_thread::get_id();
                    return true;
                  }};
  CHECK_FALSE(pipe.started());
  std::string sent;
  for (std::size_t i = 0; i < 50; ++i) {
    const std::string part = pattern(1 + (i * 397) % 2500, i); // some larger than a chunk
    REQUIRE(pipe.put(part.data(), part.size()));
    sent += part;
  }
  CHECK(pipe.started());
  REQUIRE(pipe.finish());
  CHECK(got == sent);
  CHECK(largest <= 1000);
  CHECK(calls >= sent.size() / 1000);
  CHECK(room_ok);
  CHECK(sender != std::this_thread::get_id()); // sent by a thread of its own
}

TEST_CASE("chunk_pipe: a sender that does not get on holds up the producer after `slots` chunks") {
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> sends{0};
  chunk_pipe pipe{2, 100, 16, 2, [&](char*, std::size_t) {
                    std::unique_lock lock(m);
                    cv.wait(lock, [&] { return release; });
                    ++sends;
                    return true;
                  }};
  const std::string chunk = pattern(100, 1);
  std::atomic<int> put{0};
  std::thread producer([&] {
    for (int i = 0; i < 10; ++i)
      if (pipe.put(chunk.data(), chunk.size()))
        ++put;
  });
  // One chunk in the (blocked) send, two queued: the fourth put waits.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(put.load() <= 3);
  CHECK(sends.load() == 0);
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  producer.join();
  CHECK(put.load() == 10);
  REQUIRE(pipe.finish());
  CHECK(sends.load() == 10);
}

TEST_CASE("chunk_pipe: a failed send ends the answer: put and finish return false, nothing more is sent") {
  int sends = 0;
  chunk_pipe pipe{3, 100, 16, 2, [&](char*, std::size_t) { return ++sends < 3; }}; // the third fails
  const std::string chunk = pattern(100, 2);
  bool failed = false;
  for (int i = 0; i < 1000 && !failed; ++i)
    failed = !pipe.put(chunk.data(), chunk.size());
  CHECK(failed);
  CHECK_FALSE(pipe.finish());
  CHECK(sends == 3);
  CHECK_FALSE(pipe.put(chunk.data(), chunk.size()));
}

TEST_CASE("chunk_pipe: destroyed unfinished (a cut answer), it drops what is queued and joins its thread") {
  std::atomic<int> sends{0};
  {
    chunk_pipe pipe{3, 100, 16, 2, [&](char*, std::size_t) {
                      std::this_thread::sleep_for(std::chrono::milliseconds(50));
                      ++sends;
                      return true;
                    }};
    const std::string chunk = pattern(100, 3);
    for (int i = 0; i < 4; ++i)
      REQUIRE(pipe.put(chunk.data(), chunk.size()));
  }
  CHECK(sends.load() >= 1);
  CHECK(sends.load() < 4);
}

TEST_CASE("chunk_pipe: nothing put, nothing started, and finish is true") {
  bool called = false;
  chunk_pipe pipe{3, 100, 16, 2, [&](char*, std::size_t) { return called = true; }};
  CHECK(pipe.finish());
  CHECK_FALSE(pipe.started());
  CHECK_FALSE(called);
}
