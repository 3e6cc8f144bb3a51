// io/direct_reader.hpp -- whole blocks of a packet file read with O_DIRECT,
// several in flight, for long sequential scans.
//
// Through the page cache a scan costs about two thirds of its CPU in the
// kernel (copying into the cache, then out of it, and reclaiming it) and
// peaks at about half the disk's sequential rate on this project's VM.
// O_DIRECT reads go from the disk into our buffers; `depth` of them in
// flight (libaio) keep the disk busy while the blocks before are parsed.
//
// It is only a faster way to fetch bytes: a block it cannot deliver (the
// file system refuses O_DIRECT -- tmpfs: EINVAL --, an I/O error, a short
// read) makes it give up for good, and the caller reads that block and the
// rest buffered as before, where the error is found and reported as ever.
// It reads only the span it was given, in whole blocks: for a file still
// being written, the caller ends the span at its durable extent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace stenotype::io {

class direct_reader {
public:
  /// Reads blocks of `block_size` bytes of the file open as `fd` in
  /// [begin, end) (block-aligned offsets), `depth` in flight. Opens `path`
  /// a second time with O_DIRECT and O_NOFOLLOW, and only keeps it if it is
  /// the same file as `fd` (renamed or replaced meanwhile: not). Returns
  /// nullptr where that is refused or not possible (offsets or block size
  /// not multiples of 4 KiB, no AIO context): the caller reads buffered.
  static std::unique_ptr<direct_reader> open(int fd, const std::string& path, std::uint64_t begin,
                                             std::uint64_t end, std::uint32_t block_size, unsigned depth);
  ~direct_reader();
  direct_reader(const direct_reader&) = delete;
  direct_reader& operator=(const direct_reader&) = delete;

  /// The block at `offset` (in [begin, end), block-aligned): its block_size
  /// bytes, valid until the next call; nullptr when it cannot be read so
  /// (then failed() is true and every later call returns nullptr). Reading
  /// in ascending order keeps the disk busy; a jump ahead waits out the
  /// reads in flight and starts again there; going back is allowed too.
  const std::uint8_t* read(std::uint64_t offset);
  /// Asks for the span's first blocks now, without waiting (the caller
  /// reads the blocks before the span meanwhile).
  void start();
  bool failed() const { return failed_; }
  /// Why it failed (for tests and logs): "" while it has not.
  const std::string& why() const { return why_; }

  std::uint64_t begin() const { return begin_; }
  std::uint64_t end() const { return end_; }

private:
  struct slot;
  direct_reader() = default;
  bool submit(std::size_t s, std::uint64_t offset);
  bool reap(bool wait_one); // takes finished reads; false on a failure of io_getevents
  void drain();             // waits out every read in flight
  void fail(std::string why);

  int fd_ = -1;
  void* ctx_ = nullptr; // io_context_t
  std::uint64_t begin_ = 0, end_ = 0, next_ = 0;
  std::uint32_t block_size_ = 0;
  std::size_t depth_ = 0;
  std::vector<slot> slots_;
  std::deque<std::size_t> queue_; // slots in flight or done, ascending offsets
  std::vector<std::size_t> free_;
  std::size_t in_flight_ = 0;
  bool failed_ = false;
  std::string why_;
};

} // namespace stenotype::io
