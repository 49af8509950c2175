// bench/urcu_hash_cli.hpp — the `grace-bench urcu_hash ...` and
// `grace-bench hash_insn ...` subcommands (urcu_hash_cli.cpp).
#pragma once

namespace gb {
// argv[0] is "urcu_hash".  Returns the process exit status.
int urcu_hash_main(int argc, char** argv);
// argv[0] is "hash_insn".  Returns the process exit status.
int hash_insn_main(int argc, char** argv);
}  // namespace gb
