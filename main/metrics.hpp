// main/metrics.hpp -- the capture's counters for Prometheus.
//
// An opt-in HTTP endpoint (prometheus-cpp's exposer, --metrics_port) serving
// the same counters the status protocol reports, under conventional names,
// labelled by thread and interface. Operators read drops and lag from here
// instead of parsing log lines.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <caf/settings.hpp>

namespace prometheus {
class Exposer;
class Registry;
} // namespace prometheus

namespace stenotype {

class metrics_exporter {
public:
  /// Listens on `address:port`; throws std::runtime_error if it cannot.
  metrics_exporter(const std::string& address, std::uint16_t port, const std::string& iface, int threads);
  ~metrics_exporter();

  /// Updates every metric from the supervisor's status answer.
  void update(const caf::settings& status);

private:
  struct thread_metrics;
  struct retention_metrics;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<std::unique_ptr<thread_metrics>> threads_;
  std::unique_ptr<retention_metrics> retention_;
  std::map<std::string, double> last_; // previous cumulative values, for counter deltas
};

} // namespace stenotype
