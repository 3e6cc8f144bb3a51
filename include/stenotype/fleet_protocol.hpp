// stenotype/fleet_protocol.hpp -- querying sensors across machines.
//
// `stenotype --fleet_port=N --cert_path=DIR` publishes a fleet_sensor
// through CAF's middleman over TLS (libcaf_openssl, mutual certificates from
// stenographer's CertPath); `stenoread --sensor=HOST:PORT ...` and any CAF
// application reach it with caf::openssl::remote_actor and this interface
// (docs/examples/fleet_query.cpp):
//
//   1. hello(version): the sensor answers its protocol version and name;
//      a client refuses a sensor whose version is not its own.
//   2. open(query, sink): a session actor that streams the answer to
//      `sink` as fleet_batch messages (stenotype/fleet_batch.hpp), in time
//      order, the last one marked; refused (errc::in_use) beyond
//      fleet_max_sessions queries at once, errc::bad_query for a query
//      that does not parse.
//   3. pull(credit): the session may send `credit` more batches; it sends
//      nothing without credit (grant fleet_default_credit at first, one
//      more per batch consumed).
//   4. cancel: the session ends now. It also ends when the sink goes away
//      (its connection is lost) or grants no credit for 5 minutes.
//
// Both sides must register the types: add_fleet_message_types(cfg).
#pragma once

#include <cstdint>
#include <string>

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "stenotype/fleet_batch.hpp"

namespace stenotype {

/// Bumped whenever a message of this file changes meaning or shape.
inline constexpr std::uint32_t fleet_protocol_version = 1;
/// Queries a sensor runs at once; more are refused.
inline constexpr std::uint32_t fleet_max_sessions = 8;

using fleet_hello_atom = caf::atom_constant<caf::atom("flhello")>;
using fleet_open_atom = caf::atom_constant<caf::atom("flopen")>;
using fleet_pull_atom = caf::atom_constant<caf::atom("flpull")>;
using fleet_cancel_atom = caf::atom_constant<caf::atom("flcancel")>;
using fleet_batch_atom = caf::atom_constant<caf::atom("flbatch")>;

/// A query as the client means it.
struct fleet_query {
  std::string text;         ///< docs/QUERY_LANGUAGE.md
  std::uint64_t now_ns = 0; ///< the client's clock, for "N m ago": every sensor answers the same window
  bool open_files = true;   ///< also the files the capture is still writing (query::run_options)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fleet_query& x) {
  return f(caf::meta::type_name("stenotype::fleet_query"), x.text, x.now_ns, x.open_files);
}

/// Where a session sends its batches (the client's actor).
using fleet_sink = caf::typed_actor<
  caf::reacts_to<fleet_batch_atom, fleet_batch>>; // the next batch of the answer, in time order

/// One query running on a sensor.
using fleet_session = caf::typed_actor<
  caf::reacts_to<fleet_pull_atom, std::uint32_t>, // credit: the session may send this many more batches
  caf::reacts_to<fleet_cancel_atom>>;             // end now, send nothing more

/// The actor a sensor publishes.
using fleet_sensor = caf::typed_actor<
  caf::replies_to<fleet_hello_atom, std::uint32_t>::with<std::uint32_t, std::string>, // version check: ours -> theirs, sensor name
  caf::replies_to<fleet_open_atom, fleet_query, fleet_sink>::with<fleet_session>>;     // start a query streaming to the sink

/// Registers the messages above (needed on both sides of the middleman;
/// an unregistered type fails only at run time).
inline void add_fleet_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<fleet_query>("stenotype::fleet_query");
  cfg.add_message_type<fleet_batch>("stenotype::fleet_batch");
  cfg.add_message_type<fleet_sink>("stenotype::fleet_sink");
  cfg.add_message_type<fleet_session>("stenotype::fleet_session");
}

} // namespace stenotype
