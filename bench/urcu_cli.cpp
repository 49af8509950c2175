// bench/urcu_cli.cpp — `grace-bench urcu NR_READERS NR_WRITERS DURATION
// [-d DELAY] [-c READ_LOOPS] [-e WRITE_LOOPS] [-b BATCH] [--impl NAME]`:
// liburcu's test_urcu (test_urcu_gc with -b) for any implementation, with
// its SUMMARY line, so that scripts written for liburcu's benchmarks can
// drive grace.  -r, -w, -v and -a (yield, verbose, affinity) are accepted
// and ignored.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli_args.hpp"
#include "impls.hpp"
#include "urcu_cli.hpp"
#include "urcu_test.hpp"

namespace gb {
namespace {

void usage() {
  std::fprintf(stderr,
               "usage: grace-bench urcu NR_READERS NR_WRITERS DURATION [-d DELAY] [-c READ_LOOPS]\n"
               "                        [-e WRITE_LOOPS] [-b BATCH] [--retire] [--impl NAME]\n"
               "  DURATION in seconds; DELAY, READ_LOOPS, WRITE_LOOPS in busy-wait loops (as\n"
               "  liburcu's test_urcu); -b BATCH frees in batches of BATCH with one synchronize\n"
               "  each (test_urcu_gc); --retire retires each old version instead (call_rcu).\n"
               "  NAME: grace (default), liburcu, liburcu_qsbr, liburcu_mb, ck_epoch, shared_mutex\n");
}

}  // namespace

int urcu_main(int argc, char** argv) {
  // argv[0] == "urcu"
  if (argc < 4) {
    usage();
    return 2;
  }
  urcu_params p;
  std::uint64_t readers = 0, writers = 0, duration = 0;
  if (!parse_u64(argv[1], &readers) || !parse_u64(argv[2], &writers) ||
      !parse_u64(argv[3], &duration)) {
    usage();
    return 2;
  }
  p.readers = static_cast<unsigned>(readers);
  p.writers = static_cast<unsigned>(writers);
  p.seconds = static_cast<double>(duration);
  std::string impl_name = "grace";
  for (int i = 4; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::uint64_t* out) {
      if (i + 1 >= argc || !parse_u64(argv[i + 1], out)) {
        usage();
        std::exit(2);
      }
      ++i;
    };
    std::uint64_t ignored = 0;
    if (a == "-d") value(&p.wdelay);
    else if (a == "-c") value(&p.rdur);
    else if (a == "-e") value(&p.wdur);
    else if (a == "-b") value(&p.batch);
    else if (a == "-a") value(&ignored);
    else if (a == "-r" || a == "-w" || a == "-v") continue;
    else if (a == "--retire") p.retire = true;
    else if (a == "--impl" && i + 1 < argc) impl_name = argv[++i];
    else {
      usage();
      return 2;
    }
  }
  const gb_impl* impl = nullptr;
  for (const gb_impl* c : compiled_impls()) {
    if (impl_name == c->name) impl = c;
  }
  if (impl == nullptr) {
    std::fprintf(stderr, "grace-bench urcu: implementation '%s' is not compiled in\n",
                 impl_name.c_str());
    return 2;
  }
  const bool lock_based = impl->write_lock != nullptr;
  if ((p.retire && (impl->caps & GB_CAP_RETIRE) == 0) ||
      (!p.retire && !lock_based && (impl->caps & GB_CAP_SYNC) == 0)) {
    std::fprintf(stderr, "grace-bench urcu: '%s' cannot run this test\n", impl_name.c_str());
    return 2;
  }
  const urcu_counts c = run_urcu_test(*impl, p);
  // The format of liburcu's tests/benchmark/test_urcu.c (test_urcu_gc.c
  // appends " batch %ld"); the name field is "grace-bench:<impl>".
  const std::string name = "grace-bench:" + impl_name;
  std::printf("SUMMARY %-25s testdur %4lu nr_readers %3u rdur %6lu wdur %6lu "
              "nr_writers %3u wdelay %6lu nr_reads %12llu nr_writes %12llu nr_ops %12llu",
              name.c_str(), static_cast<unsigned long>(duration), p.readers,
              static_cast<unsigned long>(p.rdur), static_cast<unsigned long>(p.wdur), p.writers,
              static_cast<unsigned long>(p.wdelay), static_cast<unsigned long long>(c.reads),
              static_cast<unsigned long long>(c.writes),
              static_cast<unsigned long long>(c.reads + c.writes));
  if (p.batch != 0) std::printf(" batch %ld", static_cast<long>(p.batch));
  std::printf("\n");
  return 0;
}

}  // namespace gb
