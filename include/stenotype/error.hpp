// stenotype/error.hpp -- what went wrong, as a code a program can act on.
//
// Every failure the library reports carries one of these codes: the capture
// supervisor decides from it whether a component is restarted, `stenoread`
// derives its exit status from it, and an embedding application can tell a
// full disk from a vanished interface without reading the message. Code
// that is not an actor (io/, index/, query/) throws `failure`; actors end
// with the same code as a caf::error (stenotype/error_category.hpp).
//
// Free of CAF and header-only, so the lowest layers can throw it.
#pragma once

#include <cerrno>
#include <cstdint>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace stenotype {

/// Why something failed. 0 is left free: CAF reads error code 0 as "no error".
enum class errc : std::uint8_t {
  io_error = 1,        ///< a read, write, sync or rename failed (no more specific code fits)
  no_space,            ///< the file system is full (ENOSPC, EDQUOT)
  permission,          ///< not allowed (EACCES, EPERM, EROFS)
  interface_gone,      ///< the capture interface is missing or was removed
  damaged_packet_file, ///< a packet file is not what its format says
  damaged_index,       ///< an index file is damaged (checksum, contents)
  bad_option,          ///< a setting or command-line value is not acceptable
  bad_query,           ///< a query does not parse
  not_found,           ///< a file or directory that should exist does not
  hung_component,      ///< a component stopped answering (the watchdog)
  internal,            ///< a bug: a broken invariant, an unexpected exception
  in_use,              ///< another process writes into this data directory
};
/// The highest code (new codes go last: the numbers are stable).
inline constexpr errc errc_last = errc::in_use;

/// The code's name, as used in status trees and logs ("no_space").
constexpr std::string_view to_string(errc code) {
  switch (code) {
    case errc::io_error: return "io_error";
    case errc::no_space: return "no_space";
    case errc::permission: return "permission";
    case errc::interface_gone: return "interface_gone";
    case errc::damaged_packet_file: return "damaged_packet_file";
    case errc::damaged_index: return "damaged_index";
    case errc::bad_option: return "bad_option";
    case errc::bad_query: return "bad_query";
    case errc::not_found: return "not_found";
    case errc::hung_component: return "hung_component";
    case errc::internal: return "internal";
    case errc::in_use: return "in_use";
  }
  return "unknown";
}

/// The one errno-to-code rule of the project.
constexpr errc errc_from_errno(int err) {
  switch (err) {
    case ENOSPC:
    case EDQUOT: return errc::no_space;
    case EACCES:
    case EPERM:
    case EROFS: return errc::permission;
    case ENODEV:
    case ENXIO:
    case ENETDOWN: return errc::interface_gone;
    case ENOENT: return errc::not_found;
    default: return errc::io_error;
  }
}

/// An exception with a code; what() is the one-line message for people.
class failure : public std::runtime_error {
public:
  failure(errc code, const std::string& what) : std::runtime_error(what), code_(code) {}
  errc code() const noexcept { return code_; }

private:
  errc code_;
};

/// The code an exception stands for: a failure's own, a system_error's
/// errno, `internal` for what only a bug throws, else `io_error` (the
/// untyped runtime errors of the I/O layers).
inline errc code_of(const std::exception& e) noexcept {
  if (auto f = dynamic_cast<const failure*>(&e))
    return f->code();
  if (auto s = dynamic_cast<const std::system_error*>(&e);
      s && (s->code().category() == std::generic_category() || s->code().category() == std::system_category()))
    return errc_from_errno(s->code().value());
  if (dynamic_cast<const std::logic_error*>(&e) || dynamic_cast<const std::bad_alloc*>(&e))
    return errc::internal;
  return errc::io_error;
}

} // namespace stenotype
