// validate(): stenotype's start-up checks, plus ours. Each message names the
// flag and the rule so a user can fix the command line without the manual.
// Everything the kernel would refuse later is refused here, before the
// capture creates any directory.
#include <cctype>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/ring.hpp"
#include "stenotype/options.hpp"

namespace stenotype {
namespace {

// The kernel's dev_valid_name(): what can name a network interface.
bool valid_interface_name(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..")
    return false;
  for (const char c : name)
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)))
      return false;
  return true;
}

// The kernel's own check of a classic BPF program (jumps inside it, a return
// at the end, known opcodes, memory slots written before read, ...): attach
// it to a throwaway socket, which needs no privileges. libpcap's
// bpf_validate() is close but not the same rules.
std::optional<std::string> filter_problem(const std::vector<bpf_instruction>& filter) {
  if (filter.empty())
    return std::nullopt;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return std::nullopt; // cannot ask here; the ring will, when it attaches it
  std::optional<std::string> problem;
  try {
    io::attach_filter(fd, filter);
  } catch (const std::exception& e) {
    problem = std::string("--filter: the kernel refuses this BPF program (") + e.what() + ")";
  }
  ::close(fd);
  return problem;
}

} // namespace

std::optional<std::string> validate(const capture_options& o) {
  constexpr std::uint32_t max_blocksize_kb = 128 * 1024, max_blockage_sec = 65,
                          max_fileage_sec = 365 * 86400;
  auto n = [](auto v) { return std::to_string(v); };
  if (o.dir.empty())
    return "--dir is required (directory to store packet files in)";
  if (o.iface.empty())
    return "--iface must name an interface";
  if (!valid_interface_name(o.iface))
    return "--iface: an interface name has at most " + n(IFNAMSIZ - 1)
           + " characters, no '/', ':' or white space, and is not '.' or '..'";
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
  if (o.blocksize_kb > max_blocksize_kb)
    return "--blocksize_kb must be at most " + n(max_blocksize_kb) + ", got " + n(o.blocksize_kb);
  // stenotype: filesize_mb >= aiops, i.e. a file holds all writes in flight.
  if ((std::uint64_t{o.filesize_mb} << 20) < std::uint64_t{o.aiops} * o.block_size())
    return "--filesize_mb (" + n(o.filesize_mb) + ") must hold --aiops (" + n(o.aiops)
           + ") blocks of " + n(o.blocksize_kb) + " KiB";
  // The kernel keeps the block timeout (blockage_sec * 1000 - 1 ms) in 16
  // bits: more than 65 s would silently become another timeout.
  if (o.blockage_sec < 1 || o.blockage_sec > max_blockage_sec)
    return "--blockage_sec must be in [1, " + n(max_blockage_sec) + "], got " + n(o.blockage_sec);
  if (o.fileage_sec < 1 || o.fileage_sec > max_fileage_sec)
    return "--fileage_sec must be in [1, " + n(max_fileage_sec) + "] (a year), got " + n(o.fileage_sec);
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
  if (o.disk_free_percentage && *o.disk_free_percentage > 100)
    return "--disk_free_percentage must be in [0, 100], got " + n(*o.disk_free_percentage);
  if (o.fanout_type < 0 || o.fanout_type > 0xffff)
    return "--fanout_type must be in [0, 65535], got " + n(o.fanout_type);
  if (o.index_format == index_format::stenographer && o.blocksize_kb != 1024)
    return "--index_format=stenographer needs --blocksize_kb=1024 (stenographer's server reads packet files "
           "in blocks of 1 MiB), got " + n(o.blocksize_kb);
  return filter_problem(o.filter);
}

} // namespace stenotype
