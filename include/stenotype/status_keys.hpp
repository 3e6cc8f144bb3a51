// stenotype/status_keys.hpp -- the names in the capture's status tree.
//
// The capture answers `status` with one caf::settings: a subtree per
// component ("reader-0", "writer-0", "indexer-0", ..., "retention"), the actor tree
// under "actors", and a few values of the whole capture. The components
// fill it, the supervisor assembles it, and the metrics exporter,
// `stenotype-ctl` and embedding applications read it -- all through these
// constants, so a key cannot be spelled two ways. What each value means:
// docs/OPERATING_AND_EMBEDDING.md. Free of CAF.
#pragma once

#include <string>
#include <string_view>

namespace stenotype::status_key {

// --- components ----------------------------------------------------------------
// Named "<role>-<thread>" for a component of one capture thread, "<role>"
// for one of the whole capture.
inline constexpr std::string_view reader = "reader";
inline constexpr std::string_view writer = "writer";
inline constexpr std::string_view indexer = "indexer";
inline constexpr std::string_view retention = "retention"; // one for the whole capture
inline constexpr std::string_view query_service = "query-service"; // with --query_port

/// "reader-0".
inline std::string component(std::string_view role, int thread) {
  return std::string(role) + "-" + std::to_string(thread);
}

/// "reader-0.kernel-drops": a value's path in the tree (caf::get_if).
inline std::string path(std::string_view component, std::string_view key) {
  return std::string(component) + "." + std::string(key);
}

// --- every component of a thread -------------------------------------------------
inline constexpr std::string_view thread = "thread";

// --- reader-N --------------------------------------------------------------------
inline constexpr std::string_view packets = "packets";
inline constexpr std::string_view blocks = "blocks";
inline constexpr std::string_view bytes = "bytes";
inline constexpr std::string_view kernel_packets = "kernel-packets";
inline constexpr std::string_view kernel_drops = "kernel-drops";
inline constexpr std::string_view freezes = "freezes";
inline constexpr std::string_view polls = "polls";
inline constexpr std::string_view current_file = "current-file";
inline constexpr std::string_view current_file_age_s = "current-file-age-s";
inline constexpr std::string_view current_file_bytes = "current-file-bytes";
inline constexpr std::string_view blocks_on_loan = "blocks-on-loan";
// Shedding (actors/index_budget.hpp): blocks kept from the indexer because it
// held its share of the ring, the files they belong to (each indexed from
// its packet file once written), the blocks the indexer holds now.
inline constexpr std::string_view index_blocks_shed = "index-blocks-shed";
inline constexpr std::string_view index_files_shed = "index-files-shed";
inline constexpr std::string_view index_leases_out = "index-leases-out";
inline constexpr std::string_view subscribers = "subscribers";
inline constexpr std::string_view subscriber_blocks_lent = "subscriber-blocks-lent";
inline constexpr std::string_view subscriber_blocks_skipped = "subscriber-blocks-skipped";
inline constexpr std::string_view subscriber_leases_out = "subscriber-leases-out";

// --- writer-N --------------------------------------------------------------------
inline constexpr std::string_view blocks_written = "blocks-written";
inline constexpr std::string_view bytes_written = "bytes-written";
inline constexpr std::string_view files_written = "files-written"; // also of the whole capture
inline constexpr std::string_view aio_in_flight = "aio-in-flight";
inline constexpr std::string_view aio_max_latency_us = "aio-max-latency-us";
inline constexpr std::string_view aio_writes_completed = "aio-writes-completed";
inline constexpr std::string_view aio_latency_sum_us = "aio-latency-sum-us";
inline constexpr std::string_view aio_mean_latency_us = "aio-mean-latency-us";
inline constexpr std::string_view direct_io = "direct-io";
inline constexpr std::string_view space_requests = "space-requests";       // disk full: asked retention to free space, and waited
inline constexpr std::string_view headroom_requests = "headroom-requests"; // nearly full: asked it, without waiting (also of retention)
inline constexpr std::string_view no_space_retries = "no-space-retries";   // operations retried after a full disk

// --- indexer-N -------------------------------------------------------------------
inline constexpr std::string_view files_indexed = "files-indexed";
inline constexpr std::string_view blocks_indexed = "blocks-indexed";
inline constexpr std::string_view next_block = "next-block";
inline constexpr std::string_view packets_indexed = "packets-indexed";
inline constexpr std::string_view open_file_keys = "open-file-keys";
inline constexpr std::string_view memory_bytes = "memory-bytes";
inline constexpr std::string_view peak_memory_bytes = "peak-memory-bytes";
inline constexpr std::string_view awaiting_packet_file = "awaiting-packet-file";
inline constexpr std::string_view files_indexed_from_disk = "files-indexed-from-disk";
inline constexpr std::string_view partial_indexes = "partial-indexes"; ///< parts of open files published (fresh queries)

// --- retention ---------------------------------------------------------------------
// Per capture thread n a subtree component(thread, n), "thread-0", with
// files_kept, bytes_kept and oldest_packet_time (seconds since the epoch:
// the first packet of the thread's oldest file; absent without files).
inline constexpr std::string_view files_kept = "files-kept"; // also of the whole capture
inline constexpr std::string_view bytes_kept = "bytes-kept"; // also of the whole capture
inline constexpr std::string_view oldest_packet_time = "oldest-packet-time";
inline constexpr std::string_view files_deleted = "files-deleted"; // a subtree: one count per reason
inline constexpr std::string_view free_space = "free-space";   // reason: a filesystem was below the line
inline constexpr std::string_view file_count = "file-count";   // reason: more than max_directory_files
inline constexpr std::string_view byte_budget = "byte-budget"; // reason: more than max_data_mb
inline constexpr std::string_view bytes_deleted = "bytes-deleted";
inline constexpr std::string_view orphan_indexes_removed = "orphan-indexes-removed";
inline constexpr std::string_view free_requests = "free-requests";
inline constexpr std::string_view free_requests_refused = "free-requests-refused";
inline constexpr std::string_view checks = "checks";
inline constexpr std::string_view errors = "errors";
inline constexpr std::string_view limits_met = "limits-met";
inline constexpr std::string_view filesystems_below_line = "filesystems-below-line"; // a list of directories
inline constexpr std::string_view limits = "limits"; // a subtree: the limits in force
inline constexpr std::string_view disk_free_percentage = "disk-free-percentage";
inline constexpr std::string_view max_directory_files = "max-directory-files";
inline constexpr std::string_view max_data_mb = "max-data-mb";

// --- query-service ------------------------------------------------------------------
inline constexpr std::string_view listening = "listening";             // host:port
inline constexpr std::string_view max_running = "max-running";         // --query_max_running
inline constexpr std::string_view queries = "queries";                 // answers started
inline constexpr std::string_view queries_complete = "queries-complete";
inline constexpr std::string_view queries_cancelled = "queries-cancelled";   // the client went away (or a stop)
inline constexpr std::string_view queries_incomplete = "queries-incomplete"; // cut: data unreadable
inline constexpr std::string_view queries_running = "queries-running";
inline constexpr std::string_view refused_busy = "refused-busy";       // 503: max-running reached
inline constexpr std::string_view bad_requests = "bad-requests";       // 400, 404, 413
inline constexpr std::string_view tls_refused = "tls-refused";         // no or wrong certificate, not TLS
inline constexpr std::string_view stats_requests = "stats-requests";   // GET /debug/stats
inline constexpr std::string_view packets_sent = "packets-sent";
inline constexpr std::string_view bytes_sent = "bytes-sent";

// --- the whole capture -------------------------------------------------------------
inline constexpr std::string_view stopping = "stopping";
inline constexpr std::string_view last_error = "last-error";           // also per actor
inline constexpr std::string_view last_error_code = "last-error-code"; // also per actor: an errc name
inline constexpr std::string_view actors = "actors";                   // the actor tree

// --- actors.<component> --------------------------------------------------------------
inline constexpr std::string_view state = "state"; // running | restarting | hung | done | failed
inline constexpr std::string_view id = "id";       // CAF actor id of the current incarnation
inline constexpr std::string_view restarts = "restarts";

} // namespace stenotype::status_key
