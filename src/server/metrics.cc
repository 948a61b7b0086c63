#include "server/metrics.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "base/time.h"

namespace lakemesh::server {
namespace {

constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                               0.1,    0.25,  0.5,    1,     2.5,   5,     10};
constexpr size_t kNumBuckets = sizeof(kBuckets) / sizeof(kBuckets[0]);

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

uint64_t ResidentBytes() {
  std::ifstream f("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

Metrics::Metrics() : start_micros_(NowMicros()) {}

void Metrics::ObserveRequest(const std::string& api, const std::string& method, int status,
                             double seconds, uint64_t bytes_in, uint64_t bytes_out) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{api, method, status}];
  Histogram& h = latency_[api];
  if (h.buckets.empty()) h.buckets.resize(kNumBuckets, 0);
  for (size_t i = 0; i < kNumBuckets; ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
  bytes_in_[api] += bytes_in;
  bytes_out_[api] += bytes_out;
}

void Metrics::ConnectionOpened(const std::string& api) {
  std::lock_guard<std::mutex> lock(mu_);
  ++open_connections_[api];
}

void Metrics::ConnectionClosed(const std::string& api) {
  std::lock_guard<std::mutex> lock(mu_);
  --open_connections_[api];
}

std::string Metrics::Render() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  out += "# HELP lakemesh_http_requests_total HTTP requests served, by API, method and status.\n";
  out += "# TYPE lakemesh_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [api, method, status] = key;
    out += "lakemesh_http_requests_total{api=\"" + api + "\",method=\"" + method +
           "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP lakemesh_http_request_duration_seconds Time to serve a request, by API.\n";
  out += "# TYPE lakemesh_http_request_duration_seconds histogram\n";
  for (const auto& [api, h] : latency_) {
    uint64_t cum = 0;
    for (size_t i = 0; i < kNumBuckets; ++i) {
      cum += h.buckets[i];
      out += "lakemesh_http_request_duration_seconds_bucket{api=\"" + api + "\",le=\"" +
             Num(kBuckets[i]) + "\"} " + std::to_string(cum) + "\n";
    }
    out += "lakemesh_http_request_duration_seconds_bucket{api=\"" + api + "\",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    out += "lakemesh_http_request_duration_seconds_sum{api=\"" + api + "\"} " + Num(h.sum) + "\n";
    out += "lakemesh_http_request_duration_seconds_count{api=\"" + api + "\"} " +
           std::to_string(h.count) + "\n";
  }
  out += "# HELP lakemesh_http_request_bytes_total Bytes received in request bodies, by API.\n";
  out += "# TYPE lakemesh_http_request_bytes_total counter\n";
  for (const auto& [api, n] : bytes_in_) {
    out += "lakemesh_http_request_bytes_total{api=\"" + api + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP lakemesh_http_response_bytes_total Bytes sent in response bodies, by API.\n";
  out += "# TYPE lakemesh_http_response_bytes_total counter\n";
  for (const auto& [api, n] : bytes_out_) {
    out += "lakemesh_http_response_bytes_total{api=\"" + api + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP lakemesh_open_connections Client connections open now, by API.\n";
  out += "# TYPE lakemesh_open_connections gauge\n";
  for (const auto& [api, n] : open_connections_) {
    out += "lakemesh_open_connections{api=\"" + api + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP lakemesh_commits_total Commits created.\n";
  out += "# TYPE lakemesh_commits_total counter\n";
  out += "lakemesh_commits_total " + std::to_string(commits_.load()) + "\n";
  out += "# HELP process_resident_memory_bytes Resident memory size in bytes.\n";
  out += "# TYPE process_resident_memory_bytes gauge\n";
  out += "process_resident_memory_bytes " + std::to_string(ResidentBytes()) + "\n";
  out += "# HELP process_start_time_seconds Start time of the process since the Unix epoch.\n";
  out += "# TYPE process_start_time_seconds gauge\n";
  out += "process_start_time_seconds " + Num(static_cast<double>(start_micros_) / 1e6) + "\n";
  for (const auto& source : gauge_sources_) {
    for (const Gauge& g : source()) {
      out += "# HELP " + g.name + " " + g.help + "\n# TYPE " + g.name + " gauge\n";
      out += g.name + " " + Num(g.value) + "\n";
    }
  }
  return out;
}

void Metrics::AddGaugeSource(std::function<std::vector<Gauge>()> source) {
  std::lock_guard<std::mutex> lock(mu_);
  gauge_sources_.push_back(std::move(source));
}

}  // namespace lakemesh::server
