// fleet/client.hpp -- one answer from many sensors.
//
// Each sensor gets its own CAF actor system (middleman + OpenSSL): in CAF
// 0.17 one lost middleman connection killed the proxies of every remote
// actor of its system, so one dying sensor would have cut all streams.
// Per sensor, a thread connects (after a TCP probe that tells "down"
// quickly), checks the protocol version, opens the query and receives its
// batches; the calling thread merges the sensors' heads by time
// (fleet/merge.hpp) and grants each sensor one batch of credit per batch
// it consumed (at most fleet_default_credit ahead): memory is about
// (credit + 1) MiB per sensor, however large the answer.
//
// A sensor that is down, refuses the certificate, speaks another version,
// sends nothing for `timeout` while it has credit, or whose connection is
// lost mid-stream is reported (one warning) and the others' packets still
// come: the answer is then partial.
//
// The actor systems are never shut down (stopping one whose sensor has
// gone hung in CAF 0.17): the caller exits the process with std::_Exit
// after flushing its output.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "actors/tls_files.hpp"
#include "fleet/sensor_list.hpp"
#include "stenotype/block_format.hpp"
#include "stenotype/fleet_protocol.hpp"

namespace stenotype::fleet {

struct client_config {
  std::vector<sensor_address> sensors;
  client_tls_files tls;    ///< find_client_tls_files(--cert_path)
  std::chrono::milliseconds timeout{30000}; ///< per sensor: connect, answer, silence while it has credit
  fleet_query query;
  std::uint32_t credit = fleet_default_credit;
};

struct sensor_outcome {
  std::string name;
  bool answered = false;      ///< its answer came whole (to its last batch)
  std::string failure;        ///< why not: "down: connection refused", "timeout: ...", ...
  int status = 0;             ///< the sensor's own verdict (io::exit_status) when answered
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;    ///< of batches received
};

/// Packets in merged time order: the sensor's index in `config.sensors`,
/// its capture thread, the packet. Returns false to stop.
using fleet_emit = std::function<bool(std::size_t sensor, std::uint16_t thread, const io::packet_ref&)>;
/// A sensor's warning (as it found it, or why it failed), as it happens.
using fleet_warn = std::function<void(std::size_t sensor, const std::string&)>;

std::vector<sensor_outcome> run_fleet_query(const client_config& config, const fleet_emit& emit,
                                            const fleet_warn& warn);

} // namespace stenotype::fleet
