#include "main/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <limits>
#include <stdexcept>

#include "stenotype/status_keys.hpp"
#include "store/retention_policy.hpp"

namespace stenotype {

struct metrics_exporter::thread_metrics {
  prometheus::Counter *packets, *drops, *kernel_packets, *blocks, *bytes_written, *files_written,
    *files_indexed, *packets_indexed, *indexer_restarts, *aio_writes, *aio_latency_sum, *index_shed_blocks;
  prometheus::Gauge *aio_in_flight, *aio_max_latency, *index_lag_blocks, *index_memory, *blocks_on_loan;
  prometheus::Gauge *oldest_packet, *files_kept, *bytes_kept; // the retention horizon
};

struct metrics_exporter::retention_metrics {
  std::vector<std::pair<std::string, prometheus::Counter*>> files_deleted; // by reason
  prometheus::Counter* bytes_deleted;
  prometheus::Gauge* limits_met;
};

metrics_exporter::metrics_exporter(const std::string& address, std::uint16_t port,
                                   const std::string& iface, int threads)
  : registry_(std::make_shared<prometheus::Registry>()) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address + ":" + std::to_string(port));
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot serve metrics on " + address + ":" + std::to_string(port) + ": " + e.what());
  }
  auto counter = [&](const char* name, const char* help) -> auto& {
    return prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
  };
  auto gauge = [&](const char* name, const char* help) -> auto& {
    return prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
  };
  auto& packets = counter("stenotype_packets_total", "Packets handed to the writer (in retired ring blocks)");
  auto& drops = counter("stenotype_drops_total", "Packets the kernel dropped: the ring was full (PACKET_STATISTICS)");
  auto& kpackets = counter("stenotype_kernel_packets_total", "Packets the kernel saw for the socket, drops included");
  auto& blocks = counter("stenotype_blocks_total", "Ring blocks handed to the writer");
  auto& bytes = counter("stenotype_written_bytes_total", "Bytes written to packet files");
  auto& files = counter("stenotype_files_written_total", "Packet files completed and renamed");
  auto& indexed = counter("stenotype_files_indexed_total", "Index files published");
  auto& pindexed = counter("stenotype_indexed_packets_total", "Packets indexed");
  auto& inflight = gauge("stenotype_aio_in_flight", "Asynchronous writes in flight");
  auto& latency = gauge("stenotype_aio_max_latency_seconds", "Longest write submit-to-completion so far");
  auto& lag = gauge("stenotype_index_lag_blocks", "Blocks handed out by the reader and not yet indexed");
  auto& memory = gauge("stenotype_index_memory_bytes", "Indexer memory for the open file");
  auto& restarts = counter("stenotype_indexer_restarts_total", "Times the supervisor replaced a failed indexer");
  auto& writes = counter("stenotype_aio_writes_total", "Asynchronous block writes completed");
  auto& latency_sum = counter("stenotype_aio_write_seconds_total",
                              "Sum of submit-to-completion times of the completed writes "
                              "(rate of this / rate of stenotype_aio_writes_total = recent mean latency)");
  auto& shed = counter("stenotype_index_shed_blocks_total",
                       "Ring blocks kept from the indexer because it held its share of the ring: their files "
                       "are indexed from disk once written (the capture sheds indexing, not packets)");
  auto& loan = gauge("stenotype_blocks_on_loan", "Ring blocks not yet given back to the kernel (back-pressure)");
  auto& oldest = gauge("stenotype_oldest_packet_timestamp_seconds",
                       "Capture time of the first packet of the thread's oldest file on disk "
                       "(time() minus this is how far back queries reach; NaN: no file)");
  auto& kept_files = gauge("stenotype_kept_files", "Complete packet files on disk");
  auto& kept_bytes = gauge("stenotype_kept_bytes", "Packet and index files on disk, bytes of disk space");
  auto& deleted = counter("stenotype_files_deleted_total",
                          "Packet files (each with its index) deleted to keep a limit, by reason: "
                          "free-space (--disk_free_percentage, or a full disk), file-count "
                          "(--max_directory_files), byte-budget (--max_data_mb)");
  auto& deleted_bytes = counter("stenotype_deleted_bytes_total", "Disk space given back by deleted files");
  auto& met = gauge("stenotype_retention_limits_met",
                    "1 while every disk limit holds; 0: only other data and each thread's newest file are left");
  for (int t = 0; t < threads; ++t) {
    const prometheus::Labels l{{"thread", std::to_string(t)}, {"iface", iface}};
    threads_.push_back(std::make_unique<thread_metrics>(thread_metrics{
      &packets.Add(l), &drops.Add(l), &kpackets.Add(l), &blocks.Add(l), &bytes.Add(l), &files.Add(l),
      &indexed.Add(l), &pindexed.Add(l), &restarts.Add(l), &writes.Add(l), &latency_sum.Add(l), &shed.Add(l), &inflight.Add(l), &latency.Add(l), &lag.Add(l),
      &memory.Add(l), &loan.Add(l), &oldest.Add(l), &kept_files.Add(l), &kept_bytes.Add(l)}));
  }
  const prometheus::Labels whole{{"iface", iface}};
  retention_ = std::make_unique<retention_metrics>();
  for (auto r : store::all_deletion_reasons) {
    const std::string reason = store::to_string(r);
    auto labels = whole;
    labels.emplace("reason", reason);
    retention_->files_deleted.emplace_back(reason, &deleted.Add(labels));
  }
  retention_->bytes_deleted = &deleted_bytes.Add(whole);
  retention_->limits_met = &met.Add(whole);
  exposer_->RegisterCollectable(registry_);
}

metrics_exporter::~metrics_exporter() = default;

void metrics_exporter::update(const caf::settings& status) {
  auto value = [&](const std::string& path) -> double {
    if (auto v = caf::get_if<int64_t>(&status, path))
      return static_cast<double>(*v);
    return 0;
  };
  // Counters only go up: add what the cumulative value grew by. A value
  // that went down belongs to a restarted component counting from zero.
  auto advance = [&](prometheus::Counter* c, const std::string& path, double scale = 1) {
    const double now = value(path) * scale;
    double& before = last_[path];
    c->Increment(now >= before ? now - before : now);
    before = now;
  };
  using namespace status_key;
  // A component that did not answer in time is absent: its values stay as they were.
  const bool have_retention = caf::get_if(&status, std::string(retention)) != nullptr;
  for (std::size_t t = 0; t < threads_.size(); ++t) {
    const int thread = static_cast<int>(t);
    const std::string r = component(reader, thread), w = component(writer, thread),
                      i = component(indexer, thread);
    auto& m = *threads_[t];
    advance(m.packets, path(r, packets));
    advance(m.drops, path(r, kernel_drops));
    advance(m.kernel_packets, path(r, kernel_packets));
    advance(m.blocks, path(r, blocks));
    advance(m.bytes_written, path(w, bytes_written));
    advance(m.files_written, path(w, files_written));
    advance(m.files_indexed, path(i, files_indexed));
    advance(m.packets_indexed, path(i, packets_indexed));
    m.aio_in_flight->Set(value(path(w, aio_in_flight)));
    m.aio_max_latency->Set(value(path(w, aio_max_latency_us)) / 1e6);
    advance(m.indexer_restarts, path(path(actors, i), restarts));
    advance(m.aio_writes, path(w, aio_writes_completed));
    advance(m.aio_latency_sum, path(w, aio_latency_sum_us), 1e-6);
    advance(m.index_shed_blocks, path(r, index_blocks_shed));
    m.blocks_on_loan->Set(value(path(r, blocks_on_loan)));
    const double lag = value(path(r, blocks)) - value(path(i, next_block));
    m.index_lag_blocks->Set(caf::get_if(&status, i) ? std::max(0.0, lag) : 0);
    m.index_memory->Set(value(path(i, memory_bytes)));
    if (!have_retention)
      continue;
    const std::string kept = path(retention, component(status_key::thread, thread));
    const auto first = caf::get_if<int64_t>(&status, path(kept, oldest_packet_time));
    m.oldest_packet->Set(first ? static_cast<double>(*first) : std::numeric_limits<double>::quiet_NaN());
    m.files_kept->Set(value(path(kept, files_kept)));
    m.bytes_kept->Set(value(path(kept, bytes_kept)));
  }
  if (!have_retention)
    return;
  for (auto& [reason, c] : retention_->files_deleted)
    advance(c, path(path(retention, files_deleted), reason));
  advance(retention_->bytes_deleted, path(retention, bytes_deleted));
  const auto met = caf::get_if<bool>(&status, path(retention, limits_met));
  retention_->limits_met->Set(met && *met ? 1 : 0);
}

} // namespace stenotype
