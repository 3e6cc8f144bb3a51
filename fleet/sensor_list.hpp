// fleet/sensor_list.hpp -- which sensors a fleet query asks.
//
// `--sensor=HOST:PORT` (repeatable) and `--sensors=FILE`: one HOST:PORT a
// line, '#' starts a comment, blank lines ignored. HOST is a name, an IPv4
// address or a bracketed IPv6 address ([::1]:9000). Sensors are asked in
// the order given (that order also breaks ties of equal timestamps in the
// merged answer); a sensor named twice is asked once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stenotype::fleet {

struct sensor_address {
  std::string host; ///< without brackets
  std::uint16_t port = 0;
  std::string name; ///< as written (HOST:PORT): how warnings and pcapng interfaces name it
  bool operator==(const sensor_address&) const = default;
};

/// "HOST:PORT", or nothing with `error` set to one line saying what is wrong.
std::optional<sensor_address> parse_sensor(const std::string& text, std::string& error);

/// The lines of a --sensors file's text; throws std::runtime_error naming
/// the line ("line 3: ...") of the first bad one. `origin` names the file.
std::vector<sensor_address> parse_sensor_lines(const std::string& text, const std::string& origin);

/// --sensor values then the --sensors file (if any), duplicates dropped.
/// Throws std::runtime_error (one line) for a bad entry or an unreadable file.
std::vector<sensor_address> sensor_list(const std::vector<std::string>& sensors, const std::string& file);

} // namespace stenotype::fleet
