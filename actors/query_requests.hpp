// actors/query_requests.hpp -- stenographer's HTTP API over a data directory.
//
//   POST /query        body: a query (docs/QUERY_LANGUAGE.md) -> 200 and the
//                      matching packets in time order as a stream (chunked),
//                      pcap with microsecond stamps as Google's server gives
//                      them, or ?format=pcap (nanoseconds) / ?format=pcapng.
//                      Headers Steno-Limit-Packets / Steno-Limit-Bytes
//                      (actors/steno_limit.hpp).
//   GET /debug/stats   text/plain "name<TAB>value" lines, sorted: the
//                      capture's live counters and the service's.
//
// Refusals are one line of text/plain: 400 for a bad query (the line
// stenoread prints: "query error at column 5: ..."), a bad limit header or
// format, an empty body; 413 for a body over max_body_bytes; 503 when
// max_queries are already running; 404 for other paths. An answer that
// cannot be completed after it started (data unreadable) ends without its
// last chunk, so the client sees a failed transfer, never a short answer
// that looks whole.
//
// Each query runs on the connection's thread (the server's pool), over
// query::run_query, writing through a buffer into the response as it goes:
// memory stays bounded however large the answer, a slow client blocks the
// query's writes (back-pressure), a client that goes away fails them and
// the query ends. No TLS or threads here: the service (query_service.hpp)
// brings those, the fuzzer (tests/fuzz/query_request_fuzzer.cpp) none.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace httplib {
class Server;
}

namespace stenotype {

/// The service's figures, updated by the request threads.
struct query_counters {
  std::atomic<std::uint64_t> queries{0};           ///< answers started (200)
  std::atomic<std::uint64_t> queries_complete{0};  ///< ... and finished whole (or at their limit)
  std::atomic<std::uint64_t> queries_cancelled{0}; ///< ... ended early: the client went away, or the service stopped
  std::atomic<std::uint64_t> queries_incomplete{0}; ///< ... cut: data could not be read
  std::atomic<std::uint64_t> refused_busy{0};      ///< 503: too many at once
  std::atomic<std::uint64_t> bad_requests{0};      ///< 400, 404, 413, malformed HTTP
  std::atomic<std::uint64_t> stats_requests{0};
  std::atomic<std::uint64_t> packets_sent{0};
  std::atomic<std::uint64_t> bytes_sent{0};        ///< response body bytes of /query
  std::atomic<std::uint64_t> query_nanos{0};       ///< time spent answering /query
  std::atomic<std::uint32_t> running{0};
};

struct query_request_config {
  std::string dir;              ///< the data directory queried
  std::uint32_t max_queries = 16; ///< running at once; more are refused with 503
  std::size_t max_body_bytes = 8192; ///< a longer request body: 413
  /// Numeric status values for /debug/stats as (name, value); may be empty.
  std::function<std::vector<std::pair<std::string, std::int64_t>>()> stats;
};

class query_requests {
public:
  explicit query_requests(query_request_config cfg);
  ~query_requests();
  query_requests(const query_requests&) = delete;
  query_requests& operator=(const query_requests&) = delete;

  /// Installs the routes, the error handler and the body limit on `server`.
  void install(httplib::Server& server);

  /// The service stops: running queries end at their next packet, and
  /// their connections are shut down so that a write blocked on a client
  /// that does not read returns now. New queries are refused (503).
  void cancel_all();

  const query_counters& counters() const { return counters_; }
  const query_request_config& config() const { return cfg_; }

private:
  struct job;
  struct connections;
  query_request_config cfg_;
  query_counters counters_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<connections> connections_;
};

} // namespace stenotype
