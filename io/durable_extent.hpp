// io/durable_extent.hpp -- how much of the packet file still being written a
// reader may read: the writer's sidecar DIR/PKT<n>/.<id>.extent.
//
// A packet file is preallocated ahead of its writes and its writes complete
// in any order, so neither its size nor its contents tell a reader where the
// completed blocks end; reading a block whose O_DIRECT write is in flight
// can give half old, half new bytes. The writer therefore records the
// contiguous prefix of completed writes ("durable extent") in a 32-byte
// record:
//
//   0  8  magic "stenoext"
//   8  8  file id (the packet file's name), little-endian
//   16 8  durable bytes: whole blocks, every write below completed
//   24 4  block size
//   28 4  check: FNV-1a over bytes 0..27
//
// rewritten in place with one pwrite at offset 0 (no fsync: after a crash,
// recovery removes the sidecar). A reader that catches a rewrite half done
// sees a wrong check and reads again; the extent only grows, so any valid
// record it reads is a safe limit. The sidecar is removed once the packet
// file has its final name (a reader then uses the whole file).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace stenotype::io {

inline constexpr std::size_t extent_record_bytes = 32;

struct durable_extent {
  std::uint64_t file_id = 0;
  std::uint64_t bytes = 0;
  std::uint32_t block_size = 0;
  bool operator==(const durable_extent&) const = default;
};

void encode_extent(const durable_extent& e, std::span<std::uint8_t, extent_record_bytes> out);
/// Nothing when `in` is not exactly one valid record (short, torn, foreign).
std::optional<durable_extent> decode_extent(std::span<const std::uint8_t> in);

/// The writer's side: one sidecar per open packet file. Failures are not
/// the capture's problem (packets matter more than fresh queries): they are
/// reported by the return values and the sidecar is given up.
class extent_publisher {
public:
  extent_publisher() = default;
  ~extent_publisher();
  extent_publisher(const extent_publisher&) = delete;
  extent_publisher& operator=(const extent_publisher&) = delete;

  /// Creates the sidecar of file `id` in the directory open as `dir_fd`,
  /// recording 0 bytes. Returns 0 or the errno of what failed.
  int open(int dir_fd, std::uint64_t id, std::uint32_t block_size);
  /// Records `bytes`; 0 or the errno (the sidecar is then closed and removed).
  int publish(std::uint64_t bytes);
  /// Removes the sidecar (its file is complete); a no-op when none is open.
  void remove();

  bool is_open() const { return fd_ >= 0; }
  std::uint64_t published() const { return record_.bytes; }

private:
  int write_record();

  int dir_fd_ = -1, fd_ = -1;
  durable_extent record_;
};

/// What a reader finds for file `id` in `packet_dir`.
struct extent_reading {
  enum class state {
    absent,  ///< no sidecar: no write completed yet, or the file is complete (or not ours)
    valid,
    damaged, ///< a sidecar that never read as a valid record of this file
  };
  state s = state::absent;
  durable_extent extent;
};

/// Reads the sidecar, again when it reads torn (a few times: a rewrite takes
/// microseconds). Never waits on the writer.
extent_reading read_extent(const std::string& packet_dir, std::uint64_t id);

} // namespace stenotype::io
