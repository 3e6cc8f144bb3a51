// main/flags.hpp -- stenotype's command line (CLI11) to capture_options.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "stenotype/options.hpp"

namespace stenotype {

struct parsed_flags {
  capture_options options;
  std::uint16_t metrics_port = 0;          ///< --metrics_port: 0 = no metrics endpoint
  std::string metrics_address = "127.0.0.1"; ///< --metrics_address
  std::uint16_t control_port = 0;          ///< --control_port: 0 = no remote status
  std::string control_address = "127.0.0.1"; ///< --control_address
  std::uint16_t query_port = 0;            ///< --query_port: 0 = no query service
  std::string query_host = "127.0.0.1";    ///< --query_host
  std::string cert_path;                   ///< --cert_path (default: stenographer's /etc/stenographer/certs)
  std::uint32_t query_max_running = 16;    ///< --query_max_running
  std::uint16_t fleet_port = 0;            ///< --fleet_port: 0 = no fleet queries
  std::string fleet_address = "127.0.0.1"; ///< --fleet_address
  /// Set when the program must exit now: 0 after --help/--usage, 2 after a
  /// bad flag or a violated start-up check (`message` then says which).
  std::optional<int> exit_code;
  std::string message; ///< what to print before exiting (help text or error)
};

/// Parses argv like stenotype: `--flag=value` and `--flag value`, counting
/// -v/-q, -?/--help, --usage; then applies validate(). Never throws.
parsed_flags parse_flags(int argc, const char* const* argv);

} // namespace stenotype
