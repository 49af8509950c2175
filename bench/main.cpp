// bench/main.cpp — grace-bench: grace side by side with liburcu, ck_epoch
// and std::shared_mutex, in one run, on this machine.  bench/README.md
// explains the method; `grace-bench --help` the options.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli_args.hpp"
#include "hash_impls.hpp"
#include "impls.hpp"
#include "plot.hpp"
#include "report.hpp"
#include "urcu_cli.hpp"
#include "urcu_hash_cli.hpp"
#include "util.hpp"
#include "workload.hpp"

namespace {

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: grace-bench [--quick] [--rounds N] [--workload NAME[,NAME...]]\n"
               "                   [--impl NAME[,NAME...]] [--csv FILE] [--json FILE] [--plot DIR]\n"
               "       grace-bench --list\n"
               "       grace-bench urcu NR_READERS NR_WRITERS DURATION [-d DELAY] [-c READ_LOOPS]\n"
               "                   [-e WRITE_LOOPS] [-b BATCH] [--retire] [--impl NAME]\n"
               "       grace-bench urcu_hash NR_READERS NR_WRITERS DURATION [-A] [-h INIT] [-m MIN]\n"
               "                   [-n MAX] [-u|-s] [-M POOL] [-N POOL] [-k PREFILL] [--impl NAME,...]\n"
               "       grace-bench hash_insn IMPL KEYS LOOKUPS hit|miss   (for callgrind)\n"
               "  --quick   whole run under a minute (CI smoke); default: full run, under 10 minutes\n"
               "  --impl    grace is always included; peers: liburcu liburcu_qsbr liburcu_mb\n"
               "            ck_epoch shared_mutex (those compiled in); hash workloads: cds_lfht\n"
               "            unordered_map tbb\n");
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v) {
    if (x == s) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "urcu") == 0) return gb::urcu_main(argc - 1, argv + 1);
  if (argc >= 2 && std::strcmp(argv[1], "urcu_hash") == 0) {
    return gb::urcu_hash_main(argc - 1, argv + 1);
  }
  if (argc >= 2 && std::strcmp(argv[1], "hash_insn") == 0) {
    return gb::hash_insn_main(argc - 1, argv + 1);
  }
  gb::options opt;
  bool rounds_given = false;
  std::string csv, json, plot_dir;
  std::vector<std::string> only_workloads, only_impls;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "grace-bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--quick") opt.quick = true;
    else if (a == "--rounds") {
      opt.rounds = std::max(1, std::atoi(next().c_str()));
      rounds_given = true;
    } else if (a == "--workload") for (auto& w : gb::split(next())) only_workloads.push_back(w);
    else if (a == "--impl") for (auto& m : gb::split(next())) only_impls.push_back(m);
    else if (a == "--csv") csv = next();
    else if (a == "--json") json = next();
    else if (a == "--plot") plot_dir = next();
    else if (a == "--list") {
      for (const auto& w : gb::all_workloads()) std::printf("%-20s %s\n", w.name, w.what);
      return 0;
    } else if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "grace-bench: unknown option '%s'\n", a.c_str());
      usage(stderr);
      return 2;
    }
  }
  if (!rounds_given) opt.rounds = opt.quick ? 3 : 7;
  for (const auto& w : only_workloads) {
    bool known = false;
    for (const auto& k : gb::all_workloads()) known |= w == k.name;
    if (!known) {
      std::fprintf(stderr, "grace-bench: unknown workload '%s' (see --list)\n", w.c_str());
      return 2;
    }
  }

  opt.only_impls = only_impls;
  gb::report rep;
  std::vector<gb::chart> charts;
  gb::context ctx{opt, {}, rep, charts};
  for (const gb_impl* impl : gb::compiled_impls()) {
    if (only_impls.empty() || std::strcmp(impl->name, "grace") == 0 ||
        contains(only_impls, impl->name)) {
      ctx.impls.push_back(impl);
    }
  }
  for (const auto& m : only_impls) {
    bool found = false;
    for (const gb_impl* impl : ctx.impls) found |= m == impl->name;
    for (const gb_hash_impl* impl : gb::hash_impls()) found |= m == impl->name;
    if (!found) std::fprintf(stderr, "grace-bench: '%s' is not compiled in: skipped\n", m.c_str());
  }

  const gb::machine m = gb::describe_machine();
  std::printf("%s\n", m.line().c_str());
  std::printf("mode: %s, %d rounds, implementations interleaved in each round\n\n",
              opt.quick ? "quick" : "full", opt.rounds);
  std::fflush(stdout);

  const std::int64_t start = gb::now_ns();
  for (const auto& w : gb::all_workloads()) {
    if (!only_workloads.empty() && !contains(only_workloads, w.name)) continue;
    const std::int64_t t0 = gb::now_ns();
    std::fprintf(stderr, "grace-bench: %-20s ...", w.name);
    std::fflush(stderr);
    w.run(ctx);
    std::fprintf(stderr, " %.1f s\n", static_cast<double>(gb::now_ns() - t0) / 1e9);
  }
  std::fprintf(stderr, "grace-bench: done in %.1f s\n",
               static_cast<double>(gb::now_ns() - start) / 1e9);

  rep.print_table(stdout);
  std::printf("\nratio = grace/peer; '+' grace better, '-' grace worse "
              "(rates: higher is better; times, sizes: lower is better)\n");
  int status = 0;
  if (!csv.empty() && !rep.write_csv(csv)) {
    std::fprintf(stderr, "grace-bench: cannot write %s\n", csv.c_str());
    status = 1;
  }
  if (!json.empty() && !rep.write_json(json, m)) {
    std::fprintf(stderr, "grace-bench: cannot write %s\n", json.c_str());
    status = 1;
  }
  if (!plot_dir.empty()) {
    const auto files = gb::write_charts(charts, plot_dir);
    std::printf("charts: %zu files in %s\n", files.size(), plot_dir.c_str());
  }
  return status;
}
