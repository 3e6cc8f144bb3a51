// main/stenoread_fleet.hpp -- stenoread --sensor/--sensors: one answer from many sensors.
//
//   stenoread --cert_path=/etc/stenographer/certs --sensor=s1:9443 --sensor=s2:9443 'host 10.1.2.3' -w out.pcap
//
// Exit status: 0 every sensor answered whole; 3 partial: some sensor
// failed (down, timeout, certificate refused, incompatible version, lost
// mid-stream) or could not read some of its data -- one warning line names
// each and says why; 4 no sensor answered; 1 the answer could not be
// written; 2 bad command line.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stenotype {

struct fleet_read_options {
  std::vector<std::string> sensors; ///< --sensor
  std::string sensors_file;         ///< --sensors
  std::string cert_path;            ///< --cert_path
  std::chrono::milliseconds timeout{30000}; ///< --timeout
  std::string query;                ///< as typed
  std::uint64_t now_ns = 0;         ///< for "N m ago", the same on every sensor
  std::string out_path = "-";       ///< -w
  std::string format = "pcap";      ///< --format
  bool quiet = false, open_files = true;
};

/// "30s", "500ms", "2m", "1h", or a number of seconds; nothing if malformed or 0.
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);

/// Runs the fleet query and exits the process (std::_Exit, after flushing:
/// CAF 0.17's shutdown can hang on a sensor that went away).
[[noreturn]] void run_fleet_read(const fleet_read_options& options);

} // namespace stenotype
