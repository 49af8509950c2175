// bench/urcu_cli.hpp — the `grace-bench urcu ...` subcommand (urcu_cli.cpp).
#pragma once

namespace gb {
// argv[0] is "urcu".  Returns the process exit status.
int urcu_main(int argc, char** argv);
}  // namespace gb
