// bench/report.cpp — see report.hpp.
#include "report.hpp"

#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <map>
#include <thread>
#include <tuple>

#include "grace/rcu.hpp"
#include "impls.hpp"

namespace gb {

bool higher_is_better(const std::string& unit) {
  return unit.size() >= 2 && unit.compare(unit.size() - 2, 2, "/s") == 0;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "n/a";
  char buf[32];
  const double a = std::fabs(v);
  if (a != 0 && (a >= 1e7 || a < 1e-3)) {
    std::snprintf(buf, sizeof buf, "%.3e", v);
  } else if (a >= 1000 || v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  }
  return buf;
}

namespace {

std::string read_cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown CPU";
}

std::string membarrier_status() {
#ifdef SYS_membarrier
  constexpr long kQuery = 0, kPrivateExpedited = 1 << 3;
  const long mask = ::syscall(SYS_membarrier, kQuery, 0);
  if (mask < 0) return "unavailable";
  return (mask & kPrivateExpedited) != 0 ? "private-expedited" : "no private-expedited";
#else
  return "unknown";
#endif
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

machine describe_machine() {
  machine m;
  m.cpu = read_cpu_model();
  m.cores = std::thread::hardware_concurrency();
  utsname u{};
  if (uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release;
#if defined(__clang__)
  m.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  m.compiler = "g++ " __VERSION__;
#endif
  m.build = GRACE_BENCH_BUILD_TYPE;
  m.membarrier = membarrier_status();
  grace::rcu_domain& d = grace::rcu_default_domain();
  d.lock();  // the flavor is decided before the first reader
  d.unlock();
  m.flavor = grace::rcu_current_flavor() == grace::rcu_flavor::membarrier ? "membarrier" : "fence";
  if (grace::rcu_current_flavor() == grace::rcu_flavor::fence) {
    m.flavor += std::string(" (") + grace::rcu_flavor_reason() + ")";
  }
  m.peers = peers_description();
  return m;
}

std::string machine::line() const {
  return "machine: " + cpu + " | " + std::to_string(cores) + " cores | " + kernel + " | " +
         compiler + " | " + build + " | membarrier " + membarrier + " | grace flavor " + flavor +
         "\npeers: " + peers;
}

void report::print_table(std::FILE* out) const {
  using key = std::tuple<std::string, int, std::string>;
  std::vector<key> order;
  std::map<key, std::vector<const result*>> rows;
  for (const result& r : results_) {
    key k{r.workload, r.threads, r.metric};
    if (rows.find(k) == rows.end()) order.push_back(k);
    rows[k].push_back(&r);
  }
  std::fprintf(out, "%-20s %3s %-26s %-8s %11s  %-13s %11s %8s\n", "workload", "thr", "metric",
               "unit", "grace", "peer", "peer value", "ratio");
  for (const key& k : order) {
    const auto& rs = rows[k];
    const result* g = nullptr;
    for (const result* r : rs) {
      if (r->impl == "grace") g = r;
    }
    bool printed = false;
    for (const result* r : rs) {
      if (r->impl == "grace") continue;
      const double gv = g != nullptr ? g->value : std::nan("");
      std::string ratio = "n/a";
      if (!std::isnan(gv) && !std::isnan(r->value) && r->value != 0) {
        const double q = gv / r->value;
        const bool better = higher_is_better(r->unit) ? q > 1.0 : q < 1.0;
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f%c", q, q == 1.0 ? ' ' : (better ? '+' : '-'));
        ratio = buf;
      }
      std::fprintf(out, "%-20s %3d %-26s %-8s %11s  %-13s %11s %8s\n", r->workload.c_str(),
                   r->threads, r->metric.c_str(), r->unit.c_str(), format_value(gv).c_str(),
                   r->impl.c_str(), format_value(r->value).c_str(), ratio.c_str());
      printed = true;
    }
    if (!printed && g != nullptr) {
      std::fprintf(out, "%-20s %3d %-26s %-8s %11s  %-13s %11s %8s\n", g->workload.c_str(),
                   g->threads, g->metric.c_str(), g->unit.c_str(), format_value(g->value).c_str(),
                   "-", "-", "-");
    }
  }
}

bool report::write_csv(const std::string& path) const {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  std::fprintf(f, "workload,impl,threads,metric,value,unit\n");
  for (const result& r : results_) {
    std::fprintf(f, "%s,%s,%d,%s,%s,%s\n", r.workload.c_str(), r.impl.c_str(), r.threads,
                 r.metric.c_str(), std::isnan(r.value) ? "n/a" : std::to_string(r.value).c_str(),
                 r.unit.c_str());
  }
  return std::fclose(f) == 0;
}

bool report::write_json(const std::string& path, const machine& m) const {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  std::fprintf(f,
               "{\n  \"machine\": {\"cpu\": \"%s\", \"cores\": %u, \"kernel\": \"%s\", "
               "\"compiler\": \"%s\", \"build\": \"%s\", \"membarrier\": \"%s\", "
               "\"grace_flavor\": \"%s\", \"peers\": \"%s\"},\n  \"results\": [",
               json_escape(m.cpu).c_str(), m.cores, json_escape(m.kernel).c_str(),
               json_escape(m.compiler).c_str(), json_escape(m.build).c_str(),
               json_escape(m.membarrier).c_str(), json_escape(m.flavor).c_str(),
               json_escape(m.peers).c_str());
  for (std::size_t i = 0; i < results_.size(); ++i) {
    const result& r = results_[i];
    std::fprintf(f,
                 "%s\n    {\"workload\": \"%s\", \"impl\": \"%s\", \"threads\": %d, "
                 "\"metric\": \"%s\", \"value\": %s, \"unit\": \"%s\"}",
                 i == 0 ? "" : ",", r.workload.c_str(), r.impl.c_str(), r.threads,
                 r.metric.c_str(), std::isnan(r.value) ? "null" : std::to_string(r.value).c_str(),
                 json_escape(r.unit).c_str());
  }
  std::fprintf(f, "\n  ]\n}\n");
  return std::fclose(f) == 0;
}

}  // namespace gb
