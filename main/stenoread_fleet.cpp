#include "main/stenoread_fleet.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>

#include "fleet/client.hpp"
#include "io/packet_output.hpp"
#include "io/read_problem.hpp"
#include "stenotype/error.hpp"

namespace stenotype {
namespace {

[[noreturn]] void finish(int status) {
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(status);
}

} // namespace

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  std::size_t end = 0;
  double value = 0;
  try {
    value = std::stod(text, &end);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const std::string unit = text.substr(end);
  double ms;
  if (unit.empty() || unit == "s")
    ms = value * 1000;
  else if (unit == "ms")
    ms = value;
  else if (unit == "m")
    ms = value * 60000;
  else if (unit == "h")
    ms = value * 3600000;
  else
    return std::nullopt;
  if (!(ms >= 1) || ms > 86400000.0 * 7)
    return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

void run_fleet_read(const fleet_read_options& o) {
  fleet::client_config config;
  try {
    config.sensors = fleet::sensor_list(o.sensors, o.sensors_file);
    config.tls = find_client_tls_files(o.cert_path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stenoread: error: %s\n", e.what());
    finish(io::exit_status::usage);
  }
  if (config.sensors.empty()) {
    std::fprintf(stderr, "stenoread: error: --sensors=%s names no sensor\n", o.sensors_file.c_str());
    finish(io::exit_status::usage);
  }
  config.timeout = o.timeout;
  config.query = {o.query, o.now_ns, o.open_files};

  std::FILE* out = o.out_path == "-" ? stdout : std::fopen(o.out_path.c_str(), "wb");
  if (!out) {
    std::fprintf(stderr, "stenoread: error: cannot write %s: %s\n", o.out_path.c_str(), std::strerror(errno));
    finish(io::exit_status::output_failed);
  }
  static char buffer[1 << 20];
  std::setvbuf(out, buffer, _IOFBF, sizeof buffer);
  const auto format = *io::parse_output_format(o.format);
  // pcapng: one interface per sensor and capture thread, added as its
  // first packet comes, named after both ("s1:9443/thread-0").
  std::unique_ptr<io::pcapng_writer> ng;
  std::unique_ptr<io::packet_output> flat;
  if (format == io::output_format::pcapng)
    ng = std::make_unique<io::pcapng_writer>(out);
  else
    flat = io::make_packet_output(out, format);
  std::map<std::pair<std::size_t, std::uint16_t>, std::uint32_t> interfaces;
  bool write_failed = false, reader_gone = false;
  const auto outcomes = fleet::run_fleet_query(
    config,
    [&](std::size_t sensor, std::uint16_t thread, const io::packet_ref& p) {
      bool ok;
      if (ng) {
        auto [it, added] = interfaces.try_emplace({sensor, thread}, 0);
        if (added) {
          const auto& name = config.sensors[sensor].name;
          const long id = ng->add_interface({name + "/thread-" + std::to_string(thread),
                                             "stenotype sensor " + name + ", capture thread " + std::to_string(thread)});
          if (id < 0) {
            (errno == EPIPE ? reader_gone : write_failed) = true;
            return false;
          }
          it->second = static_cast<std::uint32_t>(id);
        }
        ok = ng->write(it->second, p);
      } else {
        ok = flat->write(p);
      }
      if (!ok)
        (errno == EPIPE ? reader_gone : write_failed) = true;
      return ok;
    },
    [&](std::size_t sensor, const std::string& text) {
      std::fprintf(stderr, "stenoread: warning: sensor %s: %s\n", config.sensors[sensor].name.c_str(), text.c_str());
    });
  if (!write_failed && !reader_gone && (!(ng ? ng->flush() : flat->flush()) || (out != stdout && std::fclose(out) != 0)))
    (errno == EPIPE ? reader_gone : write_failed) = true;
  if (write_failed) {
    std::fprintf(stderr, "stenoread: error: cannot write %s: %s\n", o.out_path.c_str(), std::strerror(errno));
    finish(io::exit_status::output_failed);
  }
  if (reader_gone)
    finish(io::exit_status::complete);
  std::size_t answered = 0, partial = 0;
  std::uint64_t packets = 0;
  for (const auto& s : outcomes) {
    packets += s.packets;
    if (!s.answered) {
      std::fprintf(stderr, "stenoread: warning: sensor %s: %s; its packets are missing\n", s.name.c_str(),
                   s.failure.c_str());
      ++partial;
    } else if (s.status == io::exit_status::not_read) {
      std::fprintf(stderr, "stenoread: warning: sensor %s: nothing of its data directory could be read\n",
                   s.name.c_str());
      ++partial;
    } else {
      ++answered;
      if (s.status != io::exit_status::complete)
        ++partial; // its own warnings said what
    }
  }
  if (!o.quiet)
    std::fprintf(stderr, "stenoread: %llu packets from %zu of %zu sensors\n", static_cast<unsigned long long>(packets),
                 answered, outcomes.size());
  if (answered == 0) {
    std::fprintf(stderr, "stenoread: error: no sensor answered (exit status 4)\n");
    finish(io::exit_status::not_read);
  }
  if (partial > 0) {
    if (!o.quiet)
      std::fprintf(stderr, "stenoread: the answer is partial: %zu of %zu sensors failed or could not read all their "
                           "data (exit status 3)\n", partial, outcomes.size());
    finish(io::exit_status::incomplete);
  }
  finish(io::exit_status::complete);
}

} // namespace stenotype
