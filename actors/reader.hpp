// actors/reader.hpp -- the reader actor: owns one ring (or another packet
// source), hands out its blocks.
#pragma once

#include <memory>

#include <caf/actor.hpp>
#include <caf/blocking_actor.hpp>

#include "actors/index_budget.hpp"
#include "actors/protocol.hpp"
#include "io/packet_source.hpp"
#include "stenotype/options.hpp"

namespace stenotype {

struct reader_init {
  int thread = 0;
  std::shared_ptr<io::packet_source> ring; // the AF_PACKET ring in a capture
  writer_actor writer;
  indexer_actor indexer; // may be invalid (--no_index)
  capture_options opts;
  /// The indexer's share of the ring, shared with it; null: the reader makes
  /// one from opts.index_max_blocks (the indexer then gets only `missed`).
  std::shared_ptr<index_budget> budget{};
};

/// Body of the detached reader actor. Returns when stopped (stop_atom or
/// --count reached) after every captured block was handed downstream and
/// eos_atom was sent to the writer and indexer.
void reader_main(caf::blocking_actor* self, reader_init init);

} // namespace stenotype
