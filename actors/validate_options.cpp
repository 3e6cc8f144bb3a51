// validate(): stenotype's start-up checks, plus ours. Each message names the
// flag and the rule so a user can fix the command line without the manual.
#include <unistd.h>

#include "stenotype/options.hpp"

namespace stenotype {

std::optional<std::string> validate(const capture_options& o) {
  auto n = [](auto v) { return std::to_string(v); };
  if (o.dir.empty())
    return "--dir is required (directory to store packet files in)";
  if (o.iface.empty())
    return "--iface must name an interface";
  if (o.threads < 1 || o.threads > 256)
    return "--threads must be between 1 and 256, got " + n(o.threads);
  if (o.blocks < 16)
    return "--blocks must be at least 16, got " + n(o.blocks);
  if (o.aiops < 1)
    return "--aiops must be at least 1, got " + n(o.aiops);
  if (o.aiops > o.blocks)
    return "--aiops (" + n(o.aiops) + ") must not exceed --blocks (" + n(o.blocks) + ")";
  if (o.filesize_mb <= 1 || o.filesize_mb > 4096)
    return "--filesize_mb must be in (1, 4096] (packet offsets are 32-bit), got " + n(o.filesize_mb);
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  if (o.blocksize_kb == 0 || (std::uint64_t{o.blocksize_kb} * 1024) % page != 0)
    return "--blocksize_kb must be a non-zero multiple of the page size (" + n(page / 1024)
           + " KiB), got " + n(o.blocksize_kb);
  if (o.blocksize_kb > 1024 * 1024 / 8)
    return "--blocksize_kb is too large: " + n(o.blocksize_kb);
  // stenotype: filesize_mb >= aiops, i.e. a file holds all writes in flight.
  if ((std::uint64_t{o.filesize_mb} << 20) < std::uint64_t{o.aiops} * o.block_size())
    return "--filesize_mb (" + n(o.filesize_mb) + ") must hold --aiops (" + n(o.aiops)
           + ") blocks of " + n(o.blocksize_kb) + " KiB";
  if (o.blockage_sec < 1)
    return "--blockage_sec must be at least 1, got " + n(o.blockage_sec);
  if (o.fileage_sec < 1)
    return "--fileage_sec must be at least 1, got " + n(o.fileage_sec);
  if (o.fileage_sec % o.blockage_sec != 0)
    return "--fileage_sec (" + n(o.fileage_sec) + ") must be a multiple of --blockage_sec ("
           + n(o.blockage_sec) + ")";
  if (o.preallocate_file_mb > 4096)
    return "--preallocate_file_mb must be at most 4096, got " + n(o.preallocate_file_mb);
  if (o.count < -1)
    return "--count must be -1 (forever) or a packet count, got " + n(o.count);
  if (o.seccomp != "none" && o.seccomp != "trace" && o.seccomp != "kill")
    return "--seccomp must be one of none, trace, kill; got '" + o.seccomp + "'";
  if (o.index_nicelevel < -20 || o.index_nicelevel > 19)
    return "--index_nicelevel must be in [-20, 19], got " + n(o.index_nicelevel);
  if (o.fanout_id < 0 || o.fanout_id > 0xffff)
    return "--fanout_id must be in [0, 65535], got " + n(o.fanout_id);
  if (o.fanout_type < 0 || o.fanout_type > 0xffff)
    return "--fanout_type must be in [0, 65535], got " + n(o.fanout_type);
  return std::nullopt;
}

} // namespace stenotype
