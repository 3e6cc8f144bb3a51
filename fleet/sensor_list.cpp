#include "fleet/sensor_list.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace stenotype::fleet {

std::optional<sensor_address> parse_sensor(const std::string& text, std::string& error) {
  sensor_address a;
  a.name = text;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "'" + text + "': expected [IPv6]:PORT";
      return std::nullopt;
    }
    a.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) {
      error = "'" + text + "': expected HOST:PORT (an IPv6 address in brackets)";
      return std::nullopt;
    }
    a.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (a.host.empty()) {
    error = "'" + text + "': no host";
    return std::nullopt;
  }
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })
      || std::stoul(port) == 0 || std::stoul(port) > 65535) {
    error = "'" + text + "': the port must be a number from 1 to 65535";
    return std::nullopt;
  }
  a.port = static_cast<std::uint16_t>(std::stoul(port));
  return a;
}

std::vector<sensor_address> parse_sensor_lines(const std::string& text, const std::string& origin) {
  std::vector<sensor_address> out;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (const auto hash = line.find('#'); hash != std::string::npos)
      line.erase(hash);
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos)
      continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    std::string error;
    auto a = parse_sensor(line, error);
    if (!a)
      throw std::runtime_error(origin + ": line " + std::to_string(n) + ": " + error);
    out.push_back(std::move(*a));
  }
  return out;
}

std::vector<sensor_address> sensor_list(const std::vector<std::string>& sensors, const std::string& file) {
  std::vector<sensor_address> all;
  for (const auto& s : sensors) {
    std::string error;
    auto a = parse_sensor(s, error);
    if (!a)
      throw std::runtime_error("--sensor=" + error);
    all.push_back(std::move(*a));
  }
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in)
      throw std::runtime_error("--sensors=" + file + ": cannot read the file");
    std::stringstream text;
    text << in.rdbuf();
    for (auto& a : parse_sensor_lines(text.str(), "--sensors=" + file))
      all.push_back(std::move(a));
  }
  std::vector<sensor_address> out;
  for (auto& a : all)
    if (std::none_of(out.begin(), out.end(), [&](const sensor_address& b) { return b.host == a.host && b.port == a.port; }))
      out.push_back(std::move(a));
  return out;
}

} // namespace stenotype::fleet
