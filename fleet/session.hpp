// fleet/session.hpp -- one fleet query running on a sensor.
//
// A detached actor (its own thread, at nice 19: a query yields the CPU to
// the capture) runs query::run_query over the data directory and packs the
// packets into batches of ~1 MiB (stenotype/fleet_batch.hpp). It sends a
// batch only on credit (fleet_pull_atom), so the answer waits on the disk
// instead of piling up in a mailbox when the client is slower than the
// disk; cancel, the sink's loss, or five minutes without credit end it.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "query/query.hpp"
#include "stenotype/fleet_protocol.hpp"

namespace stenotype::fleet {

/// `running` counts the sessions alive: incremented by the caller, decremented when this one ends.
fleet_session spawn_session(caf::actor_system& system, std::string dir, query::node_ptr q, bool open_files,
                            fleet_sink sink, std::shared_ptr<std::atomic<std::uint32_t>> running);

} // namespace stenotype::fleet
