// Metrics: the process's counters, gauges and latency histograms, rendered in Prometheus text
// format at /metrics. Label sets are small and fixed (api, method, status class), so series are
// kept in maps behind one mutex. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace lakemesh::server {

class Metrics {
 public:
  Metrics();

  void ObserveRequest(const std::string& api, const std::string& method, int status,
                      double seconds, uint64_t bytes_in, uint64_t bytes_out);
  void ConnectionOpened(const std::string& api);
  void ConnectionClosed(const std::string& api);
  void AddCommits(uint64_t n) { commits_ += n; }

  // Gauges another part reports when /metrics is rendered (the SQL engine's table cache).
  struct Gauge {
    std::string name, help;
    double value = 0;
  };
  void AddGaugeSource(std::function<std::vector<Gauge>()> source);

  std::string Render() const;

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;  // cumulative counts are computed when rendering
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;  // GUARDED_BY(mu_)
  std::map<std::string, Histogram> latency_;                               // GUARDED_BY(mu_)
  std::map<std::string, uint64_t> bytes_in_, bytes_out_;                   // GUARDED_BY(mu_)
  std::map<std::string, int64_t> open_connections_;                        // GUARDED_BY(mu_)
  std::atomic<uint64_t> commits_{0};
  std::vector<std::function<std::vector<Gauge>()>> gauge_sources_;  // GUARDED_BY(mu_)
  int64_t start_micros_;
};

}  // namespace lakemesh::server
